"""The presets render the bundled sample through vspipe, and `vsrestore restore` runs the whole job."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs

from vsrestore import sample_path
from vsrestore.cli.main import main
from vsrestore.core.source import load_source
from vsrestore.presets import PRESET_DIR, ScriptArgs, preset_path
from vsrestore.render import probe_script

core = vs.core
SAMPLE = sample_path()


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sidecars and indexes go to a fresh folder (vspipe, started by the tests, inherits it)."""
    monkeypatch.setenv("VSRESTORE_CACHE", str(tmp_path_factory.mktemp("cache")))


def render_preset(name: str, out: Path, *extra: str) -> vs.VideoNode:
    rc = main(["render", str(PRESET_DIR / f"{name}.vpy"), "-o", str(out), "--codec", "ffv1", "--no-progress",
               *extra])
    assert rc == 0
    return load_source(out)


def test_sample_is_small_real_and_repeated() -> None:
    assert SAMPLE.is_file() and SAMPLE.stat().st_size < 6 * 1024 * 1024
    clip = load_source(SAMPLE)
    assert clip.fps == 24 and clip.num_frames > 200
    truth = json.loads(SAMPLE.with_name("sample_bw24.truth.json").read_text())
    assert truth["film_frames"] < clip.num_frames  # frames repeat: a 12-19 fps film at 24 fps


def test_silent_film_stages_and_output(tmp_path: Path) -> None:
    info = probe_script(PRESET_DIR / "silent_film.vpy")
    assert (info.width, info.height, info.fps, info.format) == (1280, 544, 24, "YUV420P10")
    decimated = probe_script(PRESET_DIR / "silent_film.vpy", output=2)
    assert 140 < decimated.frames < 170  # the sample's 243 frames hold about 159 film frames
    out = render_preset("silent_film", tmp_path / "sf.mkv", "--start", "30", "--end", "32")
    assert (out.num_frames, out.width, out.height, out.format.id) == (3, 1280, 544, vs.YUV420P10)
    u = np.asarray(out.get_frame(1)[1]).astype(np.float64)
    assert u.std() > 2.0  # coloured: chroma varies over the picture (flat gray chroma would be constant 512)


def test_newsreel_stays_black_and_white(tmp_path: Path) -> None:
    out = render_preset("newsreel_bw", tmp_path / "nr.mkv", "--end", "4")
    assert (out.num_frames, out.width, out.format.color_family) == (5, 640, vs.GRAY)
    assert probe_script(PRESET_DIR / "newsreel_bw.vpy").fps == 25


def test_colorize_only_keeps_luma_and_frames(tmp_path: Path) -> None:
    out = render_preset("colorize_only", tmp_path / "co.mkv", "--start", "100", "--end", "103")
    src = load_source(SAMPLE)
    assert probe_script(PRESET_DIR / "colorize_only.vpy").frames == src.num_frames
    for n in range(4):
        np.testing.assert_array_equal(np.asarray(out.get_frame(n)[0]), np.asarray(src.get_frame(100 + n)[0]))
    assert np.asarray(out.get_frame(1)[1]).std() > 1.0
    grey = render_preset("colorize_only", tmp_path / "g.mkv", "--start", "100", "--end", "101", "-a", "saturation=0")
    assert set(np.unique(np.asarray(grey.get_frame(1)[1]))) == {128}  # the argument reaches colorize


def test_smooth_only_rate(tmp_path: Path) -> None:
    out = render_preset("smooth_only", tmp_path / "so.mkv", "--end", "9", "-a", "fps=30000/1001")
    assert out.num_frames == 10 and out.fps == vs.core.std.BlankClip(fpsnum=30000, fpsden=1001).fps


def test_bad_preset_argument(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["render", str(PRESET_DIR / "smooth_only.vpy"), "-o", str(tmp_path / "x.mkv"), "-a", "fps=fast"])
    assert rc == 1 and "-a fps=fast: not a frame rate" in capsys.readouterr().err
    assert not (tmp_path / "x.mkv").exists()


def test_restore_command_writes_film_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "restored.mkv"
    rc = main(["restore", str(SAMPLE), "-o", str(out), "--preset", "smooth_only", "--end", "11", "--jobs", "2",
               "--segment-frames", "6", "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    assert load_source(out).num_frames == 12
    report = (tmp_path / "restored.report.txt").read_text()
    assert "film rate" in report and "templates" in report and "time: analysis" in report
    data = json.loads((tmp_path / "restored.report.json").read_text())
    assert data["input_frames"] == 243 and 140 < data["film_frames"] < 170 and data["output_frames"] == 12
    # a second run refuses to replace the film or its report
    assert main(["restore", str(SAMPLE), "-o", str(out), "--preset", "smooth_only"]) == 1
    assert "exists" in capsys.readouterr().err


def test_restore_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "r.mkv")
    assert main(["restore", str(tmp_path / "missing.mkv"), "-o", out]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["restore", str(SAMPLE), "-o", out, "--preset", "nonesuch"]) == 1
    assert "silent_film" in capsys.readouterr().err
    assert main(["restore", str(SAMPLE), "-o", out, "--fps", "x/y"]) == 1
    assert "is not a rate" in capsys.readouterr().err
    assert main(["restore", str(SAMPLE), "-o", out, "--overrides", str(tmp_path / "none.txt")]) == 1
    assert "override file" in capsys.readouterr().err


def test_script_args_reader() -> None:
    a = ScriptArgs({"fps": "25", "color": b"no", "denoise": "x", "func": print, "__name__": "__vapoursynth__"})
    assert a.fraction("fps", "24") == 25 and a.flag("color", True) is False and a.raw("func") is None
    with pytest.raises(ValueError, match="denoise='x' is not a number"):
        a.number("denoise", 1.0)
    assert preset_path("smooth_only").name == "smooth_only.vpy"
