"""Keyframe colour (issue 19): a hand-coloured frame colours its whole shot, never past a cut; the workflow.

Real colour footage made grey, its own colours as the truth; the nodes are the real ones (mvtools vectors,
the propagation, colorize), the CLI is run as a user runs it.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs
from media_fixtures import short_bw
from PIL import Image

from vsrestore.color.api import colorize
from vsrestore.color.keyframes import INDEX_NAME, image_clip, load_keyframes, read_index
from vsrestore.color.metrics import chroma_psnr
from vsrestore.color.options import ColorOut
from vsrestore.color.propagate import PropagateSettings, propagate_keyframes
from vsrestore.core.source import load_source
from vsrestore.testing.media import registry_clip

core = vs.core

pytestmark = pytest.mark.usefixtures("private_cache")


def _truth(name: str, start: int, count: int, width: int = 240) -> vs.VideoNode:
    c = load_source(registry_clip(name))[start : start + count]
    h = round(c.height * width / c.width / 2) * 2
    return core.resize.Bicubic(c, width, h, format=vs.YUV444PS, matrix_s="709", matrix_in_s="709", range_s="full")


def _grey(truth: vs.VideoNode) -> vs.VideoNode:
    return core.std.ShufflePlanes(truth, 0, vs.GRAY)


def _flat(truth: vs.VideoNode) -> vs.VideoNode:
    return core.std.Expr(truth, ["x", "0", "0"])


def _uv(f: vs.VideoFrame) -> np.ndarray:
    return np.stack([np.asarray(f[1], np.float32), np.asarray(f[2], np.float32)])


@pytest.fixture(scope="module")
def pan() -> vs.VideoNode:
    """A station platform seen from a camera panning fast (railway frames 479-598), in colour."""
    return _truth("railway", 479, 120)


def test_propagation_beats_held_keyframe_on_a_pan(pan: vs.VideoNode) -> None:
    """Over 119 frames of a pan, the keyframe's colours carried along the motion are closer to the truth than
    the keyframe's colours held still, by more than 2 dB, and far from the keyframe too."""
    out = propagate_keyframes(_grey(pan), {0: pan[0]}, _flat(pan))
    out = core.resize.Bicubic(out, pan.width, pan.height)
    held = _uv(pan.get_frame(0))
    got, still = [], []
    for n in range(1, pan.num_frames):
        t = _uv(pan.get_frame(n))
        got.append(chroma_psnr(_uv(out.get_frame(n)), t))
        still.append(chroma_psnr(held, t))
    assert np.mean(got) > np.mean(still) + 2.0, (np.mean(got), np.mean(still))
    assert np.mean(got[80:]) > np.mean(still[80:]) + 2.0, (np.mean(got[80:]), np.mean(still[80:]))
    assert out.get_frame(100).props["ColorReferenceFrame"] == 0


def test_no_colour_crosses_a_cut() -> None:
    """Shot A (railway) then shot B (beach): A's keyframe colours A only, B's keyframe colours B only; a shot
    reached by no keyframe keeps the fallback's chroma exactly."""
    a = _truth("railway", 100, 20)
    b = core.resize.Bicubic(_truth("beach", 0, 20), a.width, a.height)
    clip = a + b
    grey, flat = _grey(clip), _flat(clip)
    only_a = propagate_keyframes(grey, {0: clip[0]}, flat)
    only_b = propagate_keyframes(grey, {30: clip[30]}, flat)
    for n in range(20, 40):
        f = only_a.get_frame(n)
        assert f.props["ColorReferenceFrame"] == -1 and np.abs(_uv(f)).max() == 0.0, n
    for n in range(0, 20):
        f = only_b.get_frame(n)
        assert f.props["ColorReferenceFrame"] == -1 and np.abs(_uv(f)).max() == 0.0, n
    # and within their own shots they do colour
    assert only_a.get_frame(19).props["ColorReferenceWeight"] > 0.5
    assert only_b.get_frame(20).props["ColorReferenceWeight"] > 0.5
    assert np.abs(_uv(only_b.get_frame(20))).mean() > 0.01


def test_a_keyframe_after_a_cut_changes_nothing_before_it() -> None:
    """Two shots, a keyframe at the start of each: every frame of a shot is exactly what its own keyframe alone
    gives, even the frames nearer the other shot's keyframe (whose colours, class table included, must not
    cross the cut), and names its own keyframe."""
    a = _truth("railway", 100, 20)
    b = core.resize.Bicubic(_truth("beach", 0, 20), a.width, a.height)
    clip = a + b
    grey, flat = _grey(clip), _flat(clip)
    both = propagate_keyframes(grey, {0: clip[0], 20: clip[20]}, flat)
    alone = {0: propagate_keyframes(grey, {0: clip[0]}, flat), 20: propagate_keyframes(grey, {20: clip[20]}, flat)}
    for n in range(1, 40):
        own = 0 if n < 20 else 20
        f, g = both.get_frame(n), alone[own].get_frame(n)
        assert np.array_equal(_uv(f), _uv(g)), n
        assert f.props["ColorReferenceFrame"] == own, n


def test_fallback_gain_scales_only_what_the_keyframes_leave_to_the_fallback() -> None:
    """A grey keyframe (zero chroma) and a constant fallback: where a keyframe reaches, the output is the
    fallback's share times ``fallback_gain`` (so the default 0.5 gives half of 1.0's chroma, frame for frame,
    and some fallback colour does show where new content appears); the shot no keyframe reaches keeps the
    fallback exactly."""
    a = _truth("railway", 479, 20, 160)
    b = core.resize.Bicubic(_truth("beach", 0, 10, 160), a.width, a.height)
    clip = a + b
    grey = _grey(clip)
    fallback = core.std.Expr(clip, ["x", "0.1", "-0.05"])
    key = core.std.Expr(clip[0], ["x", "0", "0"])
    one = propagate_keyframes(grey, {0: key}, fallback, PropagateSettings(fallback_gain=1.0))
    half = propagate_keyframes(grey, {0: key}, fallback)  # the default: 0.5
    for n in (5, 19):
        u1, uh = _uv(one.get_frame(n)), _uv(half.get_frame(n))
        assert np.abs(u1).max() > 0.001, n  # the pan's new content takes some of the fallback
        np.testing.assert_allclose(uh, 0.5 * u1, atol=1e-6)
    for n in (20, 29):
        assert np.allclose(_uv(half.get_frame(n)), [[[0.1]], [[-0.05]]], atol=1e-6), n


@pytest.fixture(scope="module")
def street() -> tuple[vs.VideoNode, vs.VideoNode]:
    """24 frames of the railway's street scene as 8-bit 4:2:0 grey (the input) and its colour (the truth)."""
    c = load_source(registry_clip("railway"))[700:724]
    small = core.resize.Bicubic(c, 240, 96, format=vs.YUV420P8)
    grey = core.std.Expr(small, ["x", "128", "128"])
    return grey, small


def test_luma_is_bit_exact_and_keyframe_colours_arrive(street: tuple[vs.VideoNode, vs.VideoNode]) -> None:
    grey, colour = street
    out = colorize(grey, reference={4: colour[4]}, out=ColorOut.YUV420)
    for n in (0, 4, 13, 23):
        f, g = out.get_frame(n), grey.get_frame(n)
        assert np.array_equal(np.asarray(f[0]), np.asarray(g[0])), n
    truth = np.asarray(colour.get_frame(4)[2], np.float64)
    got = np.asarray(out.get_frame(4)[2], np.float64)
    assert np.abs(got - truth).mean() < 2.0  # the keyframe itself: its own colours (8-bit steps)
    assert out.get_frame(20).props["ColorReferenceFrame"] == 4


def test_random_order_and_threads_give_the_same_frames(street: tuple[vs.VideoNode, vs.VideoNode]) -> None:
    """The propagation is computed per shot segment, once, whatever frame asks first: frames requested in
    order, shuffled, or all at once from VapourSynth's threads are identical."""
    grey, colour = street
    refs = {3: colour[3], 18: colour[18]}

    def planes(f: vs.VideoFrame) -> list[np.ndarray]:
        return [np.asarray(f[p]).copy() for p in range(3)]

    seq = colorize(grey, reference=refs, stabilize=False)
    want = [planes(seq.get_frame(n)) for n in range(grey.num_frames)]
    order = list(range(grey.num_frames))
    random.Random(5).shuffle(order)
    shuffled = colorize(grey, reference=refs, stabilize=False)
    for n in order:
        got = planes(shuffled.get_frame(n))
        assert all(np.array_equal(x, y) for x, y in zip(got, want[n], strict=True)), n
    threaded = colorize(grey, reference=refs, stabilize=False)
    futures = [(n, threaded.get_frame_async(n)) for n in order]
    for n, fut in futures:
        got = planes(fut.result())
        assert all(np.array_equal(x, y) for x, y in zip(got, want[n], strict=True)), n


@pytest.fixture(scope="module")
def long_shot() -> vs.VideoNode:
    """A pan (railway frames 479-538) cut to another shot (1000-1019), in colour, 160 pixels wide."""
    return _truth("railway", 479, 60, 160) + _truth("railway", 1000, 20, 160)


#: caches far too small for the clip: every pass is recomputed from its checkpoints, which thin out as it goes
_TINY = PropagateSettings(cache_frames=3, checkpoint_every=3, checkpoints=4, passes=1)


def test_bounded_caches_give_the_same_frames_in_any_order(long_shot: vs.VideoNode) -> None:
    """Keyframes at 0, 40 and 70 of a 60 + 20 frame clip: with caches too small to hold anything (results
    recomputed from checkpoints, passes restarted from their keyframes), frames asked for far apart (the end of
    the long shot, then its start, then the middle) and then in order, or shuffled from VapourSynth's threads
    are bit for bit those of the default caches, props included."""
    grey, flat = _grey(long_shot), _flat(long_shot)
    keys = {k: long_shot[k] for k in (0, 40, 70)}

    def frame(f: vs.VideoFrame) -> tuple[np.ndarray, int, float]:
        return (np.stack([np.asarray(f[p]) for p in range(3)]).copy(), int(f.props["ColorReferenceFrame"]),
                float(f.props["ColorReferenceWeight"]))

    def same(a: tuple[np.ndarray, int, float], b: tuple[np.ndarray, int, float]) -> bool:
        return np.array_equal(a[0], b[0]) and a[1:] == b[1:]

    ref = propagate_keyframes(grey, keys, flat)
    want = [frame(ref.get_frame(n)) for n in range(grey.num_frames)]
    assert {w[1] for w in want} == {0, 40, 70}
    tiny = propagate_keyframes(grey, keys, flat, _TINY)
    for n in [39, 1, 20, 59, 41, 38, 2, 79, 71, *range(grey.num_frames)]:
        assert same(frame(tiny.get_frame(n)), want[n]), n
    shuffled = list(range(grey.num_frames))
    random.Random(7).shuffle(shuffled)
    tiny = propagate_keyframes(grey, keys, flat, _TINY)
    futures = [(n, tiny.get_frame_async(n)) for n in shuffled]
    for n, fut in futures:
        assert same(frame(fut.result()), want[n]), n


def test_memory_does_not_grow_with_the_shot(long_shot: vs.VideoNode) -> None:
    """The propagation's own arrays (traced by tracemalloc: the results and checkpoints it keeps) peak at the
    same size for a shot of 24 frames and one of 60, frames asked for in order (bounded caches, small here)."""
    import tracemalloc

    cfg = PropagateSettings(cache_frames=8, checkpoint_every=2, checkpoints=4, passes=2)
    peaks = []
    for count in (24, 60):
        clip = long_shot[:count]
        out = propagate_keyframes(_grey(clip), {0: clip[0]}, _flat(clip), cfg)
        out.get_frame(1)  # the keyframe's tables and the first block: made before measuring
        tracemalloc.start()
        for n in range(2, count):
            out.get_frame(n)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    per_frame = 6 * 160 * long_shot.height  # one result: float16 chroma and share, at the working size
    assert peaks[1] < peaks[0] + 10 * per_frame, (peaks, per_frame)


def test_wrong_keyframes_are_refused_by_name(street: tuple[vs.VideoNode, vs.VideoNode]) -> None:
    grey, colour = street
    small = core.resize.Bicubic(colour[4], 120, 48)
    with pytest.raises(vs.Error, match=r"reference\[4\]: keyframe is 120x48 but frame 4 is 240x96"):
        colorize(grey, reference={4: small})
    beach = core.resize.Bicubic(load_source(registry_clip("beach"))[0], 240, 96, format=vs.YUV420P8)
    with pytest.raises(vs.Error, match=r"reference\[4\]: keyframe does not show frame 4 \(luma correlation"):
        colorize(grey, reference={4: beach})


def _paint(png: Path, cb: int, cr: int) -> None:
    """Colour a grey keyframe as a colourist would: same brightness, a tint (8-bit Cb/Cr offsets)."""
    y = np.asarray(Image.open(png).convert("L"), np.float64)
    r = y + 1.5748 * cr
    b = y + 1.8556 * cb
    g = (y - 0.2126 * r - 0.0722 * b) / 0.7152
    Image.fromarray(np.clip(np.stack([r, g, b], -1), 0, 255).round().astype(np.uint8)).save(png)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vsrestore.cli.main", *args], capture_output=True, text=True,
                          timeout=900)


def test_cli_keyframes_round_trip(tmp_path: Path) -> None:
    """`vsrestore keyframes` writes one PNG per shot and an index; a painted one steers `vsrestore restore
    --keyframes`; a keyframe painted over another picture is refused in one line naming the file."""
    film = short_bw(tmp_path, frames=24)
    kdir = tmp_path / "keys"
    r = _cli("keyframes", str(film), "-o", str(kdir), "--no-decimate", "--no-progress")
    assert r.returncode == 0, r.stderr
    shots = read_index(kdir)
    pngs = sorted(kdir.glob("*.png"))
    assert shots and len(pngs) == len(shots) and (kdir / INDEX_NAME).is_file()
    assert shots[0].first == 0 and shots[-1].last == 23
    key = shots[0].key
    png = kdir / f"{key:06d}.png"
    assert png in pngs and image_clip(png).width == load_source(film).width
    # a second run would replace painted keyframes: refused
    again = _cli("keyframes", str(film), "-o", str(kdir), "--no-decimate", "--no-progress")
    assert again.returncode == 1 and "already holds" in again.stderr and "Traceback" not in again.stderr
    # unpainted keyframes are left out (their shots are not turned grey)
    assert load_keyframes(kdir, load_source(film)).unpainted == [s.key for s in shots]
    _paint(png, cb=-20, cr=30)
    out = tmp_path / "out.mkv"
    r = _cli("restore", str(film), "-o", str(out), "--preset", "colorize_only", "--keyframes", str(kdir),
             "--no-progress", "--no-audio")
    assert r.returncode == 0, r.stderr
    report = (tmp_path / "out.report.txt").read_text()
    assert f"shot {shots[0].first}-{shots[0].last}: keyframe {key}" in report
    sheet = Image.open(tmp_path / "out.keyframes.png")
    assert sheet.width > 4 * 160 and sheet.height >= len(shots) * 50
    res = core.resize.Point(load_source(out), format=vs.YUV444P8)
    f = res.get_frame(key)
    assert np.asarray(f[2], np.float64).mean() > 128 + 20 and np.asarray(f[1], np.float64).mean() < 128 - 12
    # a keyframe painted over another picture (a frame of another film) is refused by name, in one line
    w, h = Image.open(png).size
    other = core.resize.Bicubic(load_source(registry_clip("railway"))[300], w, h, format=vs.RGB24, matrix_in_s="709")
    f = other.get_frame(0)
    Image.fromarray(np.stack([np.asarray(f[p]) for p in range(3)], -1)).save(png)
    bad = _cli("restore", str(film), "-o", str(tmp_path / "bad.mkv"), "--preset", "colorize_only",
               "--keyframes", str(kdir), "--no-progress")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert str(png) in bad.stderr and "does not show frame" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert not (tmp_path / "bad.mkv").exists()


def test_keyframes_parameter_of_the_presets(tmp_path: Path) -> None:
    """`-a keyframes=DIR` is a folder parameter of the colouring presets: a missing folder is one line, a relative
    one is made absolute for vspipe; a preset that does not colour refuses `--keyframes`."""
    from vsrestore.presets import absolute_paths, check_preset_args
    from vsrestore.workflow import restore

    with pytest.raises(ValueError, match=r"-a keyframes=.*: folder .* does not exist"):
        check_preset_args("silent_film", {"keyframes": str(tmp_path / "missing")})
    assert check_preset_args("colorize_only", {"keyframes": str(tmp_path)})["keyframes"] == tmp_path
    assert absolute_paths("silent_film", {"keyframes": "."})["keyframes"] == str(Path.cwd())
    film = short_bw(tmp_path, frames=8)
    with pytest.raises(ValueError, match="--keyframes: preset newsreel_bw does not colour"):
        restore(film, tmp_path / "out.mkv", preset="newsreel_bw", keyframes=tmp_path)
