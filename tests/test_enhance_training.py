"""The default upscaler's training script: seeded and reproducible, records its data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent


def test_training_is_reproducible_and_records_its_data(
    tmp_path: Path, repo_script: Callable[[str], ModuleType]
) -> None:
    pytest.importorskip("skimage")
    mod = repo_script("train_enhancer")
    outs = []
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        for name in ("a.pth", "b.pth"):
            out = tmp_path / name
            args = ["--skimage-only", "--steps", "3", "--batch", "2", "--patch", "32", "--out", str(out)]
            assert mod.main(args) == 0
            outs.append(torch.load(out, weights_only=True))
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det)
    assert outs[0].keys() == outs[1].keys()
    assert all(torch.equal(outs[0][k], outs[1][k]) for k in outs[0])
    meta = json.loads((tmp_path / "a.json").read_text())
    assert "scikit-image:astronaut.png" in meta["train_data"] and meta["val_data"]
    assert not any("bikes" in n for n in meta["train_data"] + meta["val_data"])


def test_shipped_model_is_small_and_documented() -> None:
    model = ROOT / "vsrestore" / "models" / "vsrestore_filmsr_x2.pth"
    assert model.is_file() and model.stat().st_size < 1_000_000
    meta = json.loads(model.with_suffix(".json").read_text())
    assert meta["steps"] > 0 and meta["validation_psnr_db"]["psnr_model"] > meta["validation_psnr_db"]["psnr_bicubic"]
