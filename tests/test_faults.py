"""Faults while rendering (issue 18): signals, crashes, a full disk. After each, the input is unchanged and
no stray file remains (a chunked render keeps its finished segments for the resume, in ``.NAME.parts``).

The killed-and-resumed chunked render is tests/test_render.py::test_killed_chunked_render_resumes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from media_fixtures import short_bw
from process_helpers import wait_until_writing

from vsrestore.cli.main import main
from vsrestore.core.files import remove_stale_partials
from vsrestore.presets import PRESET_DIR

SMOOTH = str(PRESET_DIR / "smooth_only.vpy")
SLOW = """import time
import vapoursynth as vs
core = vs.core
clip = core.std.BlankClip(width=64, height=64, format=vs.YUV420P8, length=400, fpsnum=24)
def _slow(n, f):
    time.sleep({delay})
    return f
core.std.ModifyFrame(clip, clip, _slow).set_output()
"""


pytestmark = pytest.mark.usefixtures("private_cache")


def slow_script(folder: Path, delay: float = 0.05) -> Path:
    """400 blank frames, each taking ``delay`` seconds: 20 s for the whole render at 0.05."""
    p = folder / "slow.vpy"
    p.write_text(SLOW.replace("{delay}", str(delay)))
    return p


def partials(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if ".partial-" in p.name or ".tmp-" in p.name)


def start_cli(*args: str) -> subprocess.Popen[bytes]:
    """The CLI as a shell's background job starts it (`vsrestore render ... &`): SIGINT ignored, inherited.

    A shell's ``trap '' INT`` sets the ignore before ``exec`` (no ``preexec_fn``: Python code between fork and
    exec may deadlock or fail in a parent that runs threads, as pytest's does after the rendering tests)."""
    return subprocess.Popen(
        ["sh", "-c", 'trap "" INT; exec "$0" "$@"', sys.executable, "-m", "vsrestore.cli.main", *args],
        stderr=subprocess.PIPE, start_new_session=True,
    )


def wait_for_partial(folder: Path, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    wait_until_writing(proc, lambda: partials(folder), timeout)
    time.sleep(0.5)


@pytest.mark.parametrize("sig,rc,word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
@pytest.mark.parametrize("jobs", [[], ["--jobs", "2", "--segment-frames", "100"]])
def test_signal_to_the_parent_alone_stops_and_cleans(sig: int, rc: int, word: str, jobs: list[str],
                                                     tmp_path: Path) -> None:
    """``kill PID`` (SIGTERM) or ``kill -INT PID`` to the vsrestore process only (not its group), started as a
    shell's background job (SIGINT ignored): it stops at once and leaves no half-written file; before, SIGTERM
    left ``.NAME.partial-PID.mkv`` and SIGINT was ignored (the render ran to its end)."""
    out = tmp_path / "out.mkv"
    proc = start_cli("render", str(slow_script(tmp_path)), "-o", str(out), "--codec", "ffv1", "--no-progress",
                     *jobs)
    wait_for_partial(tmp_path, proc)
    t0 = time.time()
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert time.time() - t0 < 10, "the render ran on after the signal"
    assert proc.returncode == rc and word in err.decode(), err.decode()
    assert "Traceback" not in err.decode()
    assert not out.exists() and partials(tmp_path) == []


def test_killed_render_leftovers_are_removed_by_the_next_run(tmp_path: Path) -> None:
    """SIGKILL gives no chance to clean up; the next render of the same output removes the dead process's
    partial file (a live render's partial is never touched)."""
    out = tmp_path / "out.mkv"
    proc = start_cli("render", str(slow_script(tmp_path)), "-o", str(out), "--codec", "ffv1", "--no-progress")
    wait_for_partial(tmp_path, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    left = partials(tmp_path)
    assert len(left) == 1
    live = tmp_path / f".out.partial-{os.getpid()}.mkv"  # this test process is alive: its file stays
    live.write_bytes(b"x")
    assert remove_stale_partials(out) == left
    assert partials(tmp_path) == [live]
    live.unlink()
    # and the CLI does it by itself on start
    proc = start_cli("render", str(slow_script(tmp_path)), "-o", str(out), "--codec", "ffv1", "--no-progress")
    wait_for_partial(tmp_path, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert len(partials(tmp_path)) == 1
    assert main(["render", str(slow_script(tmp_path, 0.0)), "-o", str(out), "--codec", "ffv1", "--no-progress",
                 "--end", "3"]) == 0
    assert out.is_file() and partials(tmp_path) == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs mounted inside the test (needs root, as in CI); skipped with the reason where it cannot be
    mounted (the full-disk message is also checked with a simulated ffmpeg in test_reliability.py)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True,
                          text=True) if shutil.which("mount") else None
    if proc is None or proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({proc.stderr.strip() if proc else 'no mount command'})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk(small_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    film = short_bw(tmp_path, 12)  # about 0.9 MB of FFV1: the output cannot fit in 256 KiB
    before = hashlib.md5(film.read_bytes()).hexdigest()
    out = small_disk / "restored.mkv"
    rc = main(["render", SMOOTH, "-a", f"input={film}", "-o", str(out), "--codec", "ffv1", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 1 and "is full; free some space" in err and "Traceback" not in err, err
    assert hashlib.md5(film.read_bytes()).hexdigest() == before
    assert list(small_disk.iterdir()) == []
