"""Speed work (issue 22) keeps results: a preset's graph is built without loading or running any model, the
deferred graph renders the same frames as an eagerly built one, and lazy runners load their model once."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import vapoursynth as vs
from torch import nn

from vsrestore.core.bridge import TorchRunner
from vsrestore.core.source import script_outputs
from vsrestore.presets import PRESET_DIR

core = vs.core
SILENT = PRESET_DIR / "silent_film.vpy"


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sidecars and indexes go to a fresh folder (child processes inherit it)."""
    monkeypatch.setenv("VSRESTORE_CACHE", str(tmp_path_factory.mktemp("cache")))


_CHILD = """
import json, sys
from vsrestore.core.source import script_outputs
outs = script_outputs(sys.argv[1], {"upscale": "2"})
after_build = sorted(m for m in ("torch", "scipy") if m in sys.modules)
frame = outs[0].get_frame(3)
u = frame[1]
import numpy as np
print(json.dumps({"after_build": after_build, "after_frame": "torch" in sys.modules,
                  "outputs": len(outs), "chroma_std": float(np.asarray(u).std())}))
"""


def test_preset_evaluation_loads_no_model() -> None:
    """Evaluating silent_film (what `vspipe --info` and every --jobs segment do) imports no torch, so no model is
    loaded or run; the first frame request loads the models and the frame is coloured."""
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(SILENT)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["after_build"] == []  # neither torch (models) nor scipy (grain) was needed to build the graph
    assert got["after_frame"] is True  # ...but rendering a frame ran the models
    assert got["outputs"] == 8  # final + 7 stages (source ... upscaled)
    assert got["chroma_std"] > 2.0  # coloured (grey chroma would be flat)


@contextlib.contextmanager
def eager_graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Build graphs as before the speed work: no deferral anywhere (frames render while nodes are made)."""
    import vsrestore.color.api
    import vsrestore.color.infer
    import vsrestore.core.bridge
    import vsrestore.core.deferred

    def same(node: vs.VideoNode, props: vs.VideoNode | None = None) -> vs.VideoNode:
        return node

    with monkeypatch.context() as m:
        m.setattr(vsrestore.core.deferred, "building", contextlib.nullcontext)
        for mod in (vsrestore.core.deferred, vsrestore.core.bridge, vsrestore.color.infer, vsrestore.color.api):
            m.setattr(mod, "deferrable", same)
        yield


def _frames(node: vs.VideoNode, order: list[int]) -> dict[int, list[np.ndarray]]:
    return {n: [np.asarray(p).copy() for p in node.get_frame(n)] for n in order}


def test_deferred_graph_renders_the_same_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """silent_film on the bundled sample: every plane of final frames 9 and 0 (asked out of order) and of the
    colour stage equals, bit for bit, what the graph built without deferral gives."""
    args = {"upscale": "1"}  # the upscaler has no frame-0 reader; the rest of the chain is the point here
    outs = script_outputs(SILENT, args)
    lazy = _frames(outs[0], [9, 0])
    lazy_colour = _frames(outs[5], [6])
    del outs
    vs.clear_outputs()
    core.clear_cache()
    with eager_graph(monkeypatch):
        outs = script_outputs(SILENT, args)
    eager = _frames(outs[0], [0, 9])
    eager_colour = _frames(outs[5], [6])
    stage = outs[5].get_frame(0).props["PresetStage"]
    assert (stage.decode() if isinstance(stage, bytes) else stage) == "colour"
    for n in (0, 9):
        for a, b in zip(lazy[n], eager[n], strict=True):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(lazy_colour[6], eager_colour[6], strict=True):
        np.testing.assert_array_equal(a, b)
    assert float(lazy[9][1].std()) > 2.0  # a real coloured frame, not a blank stand-in


class _Scale(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def test_lazy_runner_builds_once_from_many_threads() -> None:
    built: list[int] = []

    def factory() -> nn.Module:
        built.append(1)
        torch.manual_seed(0)
        return _Scale()

    runner = TorchRunner(factory, lazy=True)
    assert not runner.loaded and built == []  # nothing built when the node is made
    x = torch.rand(1, 1, 32, 40)
    outs: list[torch.Tensor] = []
    threads = [threading.Thread(target=lambda: outs.append(runner(x))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == [1] and runner.loaded and runner.loads == 1
    for y in outs[1:]:
        assert torch.equal(y, outs[0])
    torch.manual_seed(0)
    assert torch.allclose(outs[0], _Scale().eval()(x), atol=1e-6)


def test_building_clears_the_stand_ins(tmp_path: Path) -> None:
    """A frame asked for inside ``building()`` is a blank stand-in; after the block the same node gives the
    model's frame (the stand-in did not stay in a cache)."""
    from vsrestore.core.bridge import torch_node
    from vsrestore.core.deferred import building, is_building

    clip = core.std.BlankClip(format=vs.GRAYS, width=32, height=24, length=4, color=0.25)
    node = torch_node(clip, lambda: _AddOne(), luma_only=True)
    with building():
        assert is_building()
        inside = np.asarray(node.get_frame(1)[0]).copy()
    assert not is_building()
    after = np.asarray(node.get_frame(1)[0]).copy()
    assert float(inside.max()) == 0.0  # blank, no model run
    np.testing.assert_allclose(after, 1.25)


class _AddOne(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1.0


def test_channels_last_fast_path_equals_eager_on_real_footage(bikes: vs.VideoNode) -> None:
    """The CPU fast path (channels-last weights) of the shipped FilmSR and colouriser gives eager torch's output
    on real footage within 1e-5 (FilmSR, luma 0..1) and 2.5e-6 (colouriser chroma): float32 rounding, the sums run
    in another order."""
    from vsrestore.color.plan import plan_colorizer
    from vsrestore.enhance.upscale import _load_default

    frames = [np.asarray(f[0]).astype(np.float32) / 255.0 for f in core.std.ShufflePlanes(
        core.resize.Bicubic(bikes, 320, 136, format=vs.YUV420P8)[::60], 0, vs.GRAY).frames(close=True)]
    x = torch.from_numpy(np.stack(frames))[:, None]
    colour = plan_colorizer(None, None).model
    # (FilmSR gives luma 0..1; the colouriser chroma, small on this footage: mean |Cb, Cr| a few 1e-3, its float32
    # rounding scaled by the stored gain 1.0: 2.5 x the 1e-6 allowed at the gain 0.4 shipped before)
    for make, scale, multiple, atol in ((_load_default, 2, 1, 1e-5), (colour, 1, 8, 2.5e-6)):
        eager = TorchRunner(make, lazy=True, scale=scale, multiple=multiple)
        fast = TorchRunner(make, lazy=True, scale=scale, multiple=multiple, channels_last=True)
        for i in range(x.shape[0]):
            a, b = eager(x[i : i + 1]), fast(x[i : i + 1])
            assert float(a.abs().max()) > 100 * atol  # the model said something
            torch.testing.assert_close(b, a, atol=atol, rtol=0)


def test_upscaler_argument_picks_the_method() -> None:
    """silent_film's upscaler=: nnedi3 and model as asked; auto is the model only where a CUDA GPU is seen."""
    from vsrestore.core.backend import cuda_visible
    from vsrestore.presets import cpu_upscaler

    seen = {}
    for choice in ("nnedi3", "model"):
        outs = script_outputs(SILENT, {"upscaler": choice, "color": "0", "denoise": "0", "sharpen": "0"})
        method = outs[7].get_frame(0).props["UpscaleMethod"]
        seen[choice] = method.decode() if isinstance(method, bytes) else method
        assert (outs[0].width, outs[0].height) == (1280, 544)
        del outs
        vs.clear_outputs()
    assert seen == {"nnedi3": "nnedi3", "model": "model:FilmSR" if cuda_visible() else "model:FilmSR:openvino"}
    auto = cpu_upscaler("auto")
    assert auto == ("model" if torch.cuda.is_available() else "nnedi3")


def test_gpu_script_runs_on_the_cpu(tmp_path: Path) -> None:
    """benchmarks/gpu.py at a tiny size: without CUDA it says so and measures the nodes on the CPU instead."""
    out = tmp_path / "gpu.md"
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu.py"
    proc = subprocess.run([sys.executable, str(script), "--size", "96x64", "--frames", "1", "--preset-frames", "0",
                           "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert "| colorize (default model) |" in text and "| upscale FilmSR x2 |" in text
    if torch.cuda.is_available():
        assert "| cuda | fp16 |" in text
    else:
        assert "skipped: CUDA not available" in text
        cpu_rows = [ln for ln in text.splitlines() if "| cpu | fp32 |" in ln]
        assert len(cpu_rows) == 2 and all(float(r.split("|")[4]) > 0 for r in cpu_rows)
