"""Rendering across a Ray cluster (``--cluster``): a real two-node cluster on localhost, started by the tests.

The head and a second node are separate ``ray start --block`` processes, each in a session of its own
(:class:`~vsrestore.testing.ray_cluster.LocalCluster`); they are stopped by signalling exactly the processes of
those two sessions (never ``ray stop``, which would stop every Ray on the machine). Every render is compared
frame by frame (ffmpeg framemd5) with a one-job render.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vsrestore.cli.main import main
from vsrestore.render.cluster import EXTRA_HINT, _Shipped, default_segment_frames
from vsrestore.render.tools import find_ffmpeg
from vsrestore.testing.ray_cluster import LocalCluster, running_vspipes, stop_session

SCRIPTS = Path(__file__).parent / "scripts"
CHEAP = str(SCRIPTS / "cluster_cheap.vpy")
HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(
    not HAS_RAY, reason="Ray is not installed: pip install -e '.[test,cluster]' (the 'cluster' extra) runs these"
)


def framemd5(path: Path) -> list[str]:
    """ffmpeg's per-frame MD5 of the decoded video (the header lines dropped)."""
    out = subprocess.run([find_ffmpeg(), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-f",
                          "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line.split(",")[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    c = LocalCluster()
    mp = pytest.MonkeyPatch()  # the drivers run in this process too (main([...]))
    mp.setenv("RAY_AUTH_MODE", "disabled")
    mp.delenv("RAY_ADDRESS", raising=False)
    try:
        yield c
    finally:
        mp.undo()
        c.stop()


def one_job(tmp_path: Path, args: list[str]) -> list[str]:
    ref = tmp_path / "one.mkv"
    assert main(["render", CHEAP, "-o", str(ref), "--codec", "ffv1", "--no-progress", *args]) == 0
    return framemd5(ref)


def test_default_segment_length() -> None:
    # T(L) = F/N (1 + c/L) + L/2 is least at sqrt(2 F c / N); capped by F/N (every worker gets one) and 2000
    assert default_segment_frames(130_000, 8, startup_frames=30) == 987
    assert default_segment_frames(100, 4, startup_frames=30) == 25
    assert default_segment_frames(10_000_000, 1, startup_frames=30) == 2000
    with pytest.raises(ValueError, match="workers"):
        default_segment_frames(100, 0)


def test_shipped_file_is_copied_where_the_path_is_missing(tmp_path: Path) -> None:
    src = tmp_path / "sidecar.json"
    src.write_text('{"a": 1}')
    shipped = _Shipped.of(src)
    assert shipped.materialise(tmp_path / "copy") == src.resolve()  # the same bytes at the same path: used
    src.write_text('{"a": 2}')  # this node's file differs: a private copy of the driver's bytes
    copy = shipped.materialise(tmp_path / "copy")
    assert copy != src.resolve() and copy.read_text() == '{"a": 1}' and copy.name == "sidecar.json"


def test_without_ray_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as without the extra
    out = tmp_path / "x.mkv"
    assert main(["render", CHEAP, "-o", str(out), "--cluster", "auto", "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and EXTRA_HINT in err[0] and "Traceback" not in err[0], err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cluster_options_that_do_not_go_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "x.mkv")
    assert main(["render", CHEAP, "-o", out, "--cluster", "auto", "--jobs", "2"]) == 1
    assert "--jobs and --cluster" in capsys.readouterr().err
    assert main(["render", CHEAP, "-o", out, "--work-dir", str(tmp_path)]) == 1
    assert "--work-dir is for --cluster" in capsys.readouterr().err


@needs_ray
def test_cluster_render_is_identical_to_one_job(tmp_path: Path, cluster: LocalCluster,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    args = ["-a", "frames=96"]
    ref = one_job(tmp_path, args)
    out = tmp_path / "cluster.mkv"
    assert main(["render", CHEAP, "-o", str(out), "--codec", "ffv1", "--no-progress", *args, "--cluster",
                 cluster.address, "--segment-frames", "24"]) == 0
    text = capsys.readouterr().out
    assert framemd5(out) == ref and len(ref) == 96
    lines = [ln for ln in text.splitlines() if ln.strip().startswith("segment")]
    assert len(lines) == 4 and all("0 retries" in ln for ln in lines), text
    nodes = {ln.split("node ")[1].split(",")[0] for ln in lines}
    assert len(nodes) == 2, f"both nodes should render (one CPU each): {text}"
    assert "2 nodes, 2 segments at once" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cluster.mkv", "one.mkv"]  # parts folder removed


@needs_ray
def test_shared_work_dir(tmp_path: Path, cluster: LocalCluster) -> None:
    args = ["-a", "frames=40", "-a", "size=48"]
    ref = one_job(tmp_path, args)
    work = tmp_path / "shared"
    work.mkdir()
    out = tmp_path / "cluster.mkv"
    assert main(["render", CHEAP, "-o", str(out), "--codec", "ffv1", "--no-progress", *args, "--cluster",
                 cluster.address, "--work-dir", str(work), "--segment-frames", "10", "--keep-parts"]) == 0
    assert framemd5(out) == ref
    (parts,) = work.iterdir()
    assert sorted(p.name for p in parts.glob("segment-*")) == [f"segment-{i:05d}.mkv" for i in range(4)]
    assert not (tmp_path / ".cluster.mkv.parts").exists()  # the segments went to the work folder only


@needs_ray
def test_restore_on_the_cluster(tmp_path: Path, cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    """``restore --cluster``: the analysis runs once here, its sidecar travels with the tasks; the film is the
    one-job restore's, frame for frame."""
    from vsrestore.core.source import sample_path

    base = ["restore", str(sample_path()), "--preset", "newsreel_bw", "-a", "denoise=0", "-a", "sharpen=0",
            "--codec", "ffv1", "--no-audio", "--start", "0", "--end", "11", "--no-progress"]
    assert main([*base, "-o", str(tmp_path / "one.mkv")]) == 0
    assert main([*base, "-o", str(tmp_path / "cluster.mkv"), "--cluster", cluster.address, "--segment-frames",
                 "6"]) == 0
    out = capsys.readouterr().out
    assert framemd5(tmp_path / "cluster.mkv") == framemd5(tmp_path / "one.mkv")
    assert len([ln for ln in out.splitlines() if ln.strip().startswith("segment")]) == 2, out
    report = (tmp_path / "cluster.report.txt").read_text()
    assert "sidecar=" in report and "segment   1 (frames 6..11): node" in report, report


@needs_ray
def test_a_failing_segment_stops_with_its_error(tmp_path: Path, cluster: LocalCluster,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "fails_late.vpy"  # fine when probed; frame 30 raises in every try
    script.write_text(Path(CHEAP).read_text() + (
        "\ndef _boom(n, f):\n    if n == 30:\n        raise ValueError('frame 30 is broken')\n    return f\n"
        "core.std.ModifyFrame(clip, clip, _boom).set_output()\n"))
    out = tmp_path / "x.mkv"
    assert main(["render", str(script), "-o", str(out), "--codec", "ffv1", "--no-progress", "-a", "frames=48",
                 "--cluster", cluster.address, "--segment-frames", "12"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "segment 2 (frames 24..35) failed 3 times" in err[0] and "frame 30 is broken" in err[0], err
    assert not out.exists()


@needs_ray
def test_driver_interrupted_then_restarted_reuses_segments(tmp_path: Path, cluster: LocalCluster) -> None:
    args = ["-a", "frames=96", "-a", "delay=0.05", "--codec", "ffv1", "--segment-frames", "12"]
    out = tmp_path / "film.mkv"
    cmd = [sys.executable, "-m", "vsrestore.cli.main", "render", CHEAP, "-o", str(out), *args, "--no-progress",
           "--cluster", cluster.address]
    parts = tmp_path / ".film.mkv.parts"
    tmp_before = set(Path(tempfile.gettempdir()).glob("vsrestore-segment-*"))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env=cluster.env)
    deadline = time.time() + 180
    while time.time() < deadline and len(list(parts.glob("segment-*.mkv"))) < 2 and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert err.decode().strip().splitlines()[-1] == "vsrestore render: interrupted"
    kept = {p.name: p.stat().st_mtime_ns for p in parts.glob("segment-*.mkv")}
    assert 2 <= len(kept) < 8 and not out.exists()
    assert sorted(p.name for p in parts.iterdir()) == sorted([*kept, "manifest.json"])  # nothing half-written
    deadline = time.time() + 30  # the cancelled tasks stop their vspipe and ffmpeg
    while time.time() < deadline and (running_vspipes(cluster.head.pid) or running_vspipes(cluster.worker.pid)):
        time.sleep(0.2)
    assert running_vspipes(cluster.head.pid) == running_vspipes(cluster.worker.pid) == 0
    assert not [d for d in Path(tempfile.gettempdir()).glob("vsrestore-segment-*") if d not in tmp_before]

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=cluster.env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count(": reused (finished by an earlier run)") == len(kept), again.stdout
    assert not parts.exists()  # joined: the work folder is gone
    assert framemd5(out) == one_job(tmp_path, ["-a", "frames=96"])


@needs_ray
def test_worker_node_killed_mid_render(tmp_path: Path, cluster: LocalCluster) -> None:
    """SIGKILL of every process of the second node while it renders a segment: that segment is tried again
    on the head, and the film is still identical. (Last in the module: the second node stays dead.)"""
    out = tmp_path / "film.mkv"
    cmd = [sys.executable, "-m", "vsrestore.cli.main", "render", CHEAP, "-o", str(out), "-a", "frames=72", "-a",
           "delay=0.1", "--codec", "ffv1", "--segment-frames", "12", "--no-progress", "--cluster", cluster.address]
    tmp_before = set(Path(tempfile.gettempdir()).glob("vsrestore-segment-*"))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and running_vspipes(cluster.worker.pid) == 0 and proc.poll() is None:
            time.sleep(0.05)
        assert running_vspipes(cluster.worker.pid) == 1, "the second node never started a segment"
        time.sleep(0.4)  # a few frames into the segment
        stop_session(cluster.worker.pid, signal.SIGKILL)  # the node dies: raylet, its workers, vspipe, ffmpeg
        cluster.worker.wait()
        text, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert framemd5(out) == one_job(tmp_path, ["-a", "frames=72"])
        retried = [ln for ln in text.splitlines() if "1 retries" in ln]
        assert len(retried) >= 1, text
        # the killed task's temporary folder was removed by the next task (its process is gone)
        assert not [d for d in Path(tempfile.gettempdir()).glob("vsrestore-segment-*") if d not in tmp_before]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
