"""Weights resolution and safe loading: paths, directories, $VSRESTORE_MODEL_DIR, errors that say what to do."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from vsrestore.core.weights import MODEL_DIR_ENV, ModelInfo, WeightsError, load_state_dict, resolve_weights

INFO = ModelInfo(arch="test net (3x3 conv)", filenames=("net.pth", "net_alt.pth"), source="the test suite")


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "net.pth"
    torch.save(torch.nn.Conv2d(1, 2, 3).state_dict(), path)
    return path


def test_path_dir_and_env(saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_weights(saved, INFO) == saved
    assert resolve_weights(str(tmp_path), INFO) == saved
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    assert resolve_weights("net", INFO) == saved
    assert resolve_weights("net.pth", INFO) == saved


def test_missing_names_path_file_and_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    with pytest.raises(WeightsError) as err:
        resolve_weights("ColorizeVideo_gen", INFO)
    msg = str(err.value)
    assert "ColorizeVideo_gen" in msg and "net.pth" in msg and "the test suite" in msg
    assert "test net (3x3 conv)" in msg and MODEL_DIR_ENV in msg and "never downloads" in msg
    missing = tmp_path / "nowhere" / "net.pth"
    with pytest.raises(WeightsError, match=str(missing).replace("/", ".")):
        resolve_weights(missing, INFO)
    with pytest.raises(WeightsError, match="net.pth, net_alt.pth"):
        resolve_weights(tmp_path, INFO)  # an empty folder
    with pytest.raises(WeightsError, match="no model given"):
        resolve_weights(None, INFO)


def test_load_plain_and_wrapped(saved: Path, tmp_path: Path) -> None:
    sd = load_state_dict(saved, INFO)
    assert set(sd) == {"weight", "bias"} and sd["weight"].shape == (2, 1, 3, 3)
    wrapped = tmp_path / "wrapped.pth"
    torch.save({"params_ema": {"module." + k: v for k, v in sd.items()}, "iter": 5}, wrapped)
    assert set(load_state_dict(wrapped, INFO)) == {"weight", "bias"}
    with_slice = tmp_path / "slice.pth"
    torch.save({"model": sd, "opt": {"s": slice(0, 4)}}, with_slice)
    assert set(load_state_dict(with_slice, INFO)) == {"weight", "bias"}


class Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("code ran",))


def test_unsafe_and_broken_files_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.pth"
    torch.save({"x": Evil()}, evil)
    with pytest.raises(WeightsError, match="could not be loaded as a plain state dict") as err:
        load_state_dict(evil, INFO)
    assert str(evil) in str(err.value) and "test net" in str(err.value)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsError, match="junk.pth"):
        load_state_dict(junk, INFO)
    empty = tmp_path / "empty.pth"
    with empty.open("wb") as fh:
        pickle.dump({"epoch": 3}, fh)
    with pytest.raises(WeightsError, match="holds no tensors|could not be loaded"):
        load_state_dict(empty, INFO)
