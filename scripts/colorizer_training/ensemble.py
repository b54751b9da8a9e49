"""The shipped default is an ensemble of trained nets: its switches and gain chosen on held-out data
(``ensemble``), optionally with the members' decodings searched jointly (``--search-decoding``)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import heldout, nets
from .heldout import best_setting, gain_margins


def ensemble(
    cache: Path,
    checkpoints: list[Path],
    out: Path,
    seed: int,
    data_set: str,
    try_flip: bool = False,
    search_decoding: bool = False,
    npm_footage: bool = False,
) -> None:
    """Write the ensemble of ``checkpoints`` to ``out``, its ``agreement``, ``multiscale`` and ``chroma_gain``
    chosen like :func:`calibrate` (best worst case over the held-out photos of ``data_set`` and the held-out
    footage); ``try_flip`` adds mirror-image averaging (``flip``, twice the passes) to the choices, and
    ``search_decoding`` chooses each member's temperature and ``reg_mix`` too, jointly with the rest
    (:func:`decoding_search`, gains in steps of 0.05), instead of keeping those each member chose alone on its
    validation photos. ``npm_footage`` adds the clips of FOOTAGE_NPM to the held-out footage."""
    vy, truth, footage = heldout.held_out(cache, seed, data_set, npm_footage)
    net = nets.average_net([nets.load_net(c) for c in checkpoints])
    if search_decoding:
        searched = decoding_search(net, vy, truth, footage, try_flip)
        own = tuple((float(m.temperature), float(m.reg_mix)) for m in net.members)
        mine = [r for r in searched if r.decodings == own and r.agreement == 1 and r.multiscale == 1][:1]
        for row in searched[:10] + mine:  # the ten best, then the members' own decodings for comparison
            print(
                f"worst {row.worst:+.2f}: agreement={row.agreement} flip={row.flip} multiscale={row.multiscale} "
                f"(T, reg_mix) per member {row.decodings} gain={row.gain}: "
                + ", ".join(f"{k} {v:+.2f}" for k, v in row.margins.items()),
                flush=True,
            )
        _, agree, flip, ms, combo, g, best_m = searched[0]
        for m, (t, mix) in zip(net.members, combo, strict=True):
            m.temperature.fill_(t)
            m.reg_mix.fill_(mix)
        net.agreement.fill_(float(agree))
        net.flip.fill_(float(flip))
        net.multiscale.fill_(float(ms))
        net.chroma_gain.fill_(g)
        best = ", ".join(f"{k} {v:+.2f}" for k, v in best_m.items())
        print(
            f"chosen: agreement={agree} flip={flip} multiscale={ms} (T, reg_mix) per member {combo} gain={g}: "
            f"{best} dB over flat gray",
            flush=True,
        )
        nets.save(net, out)
        return
    found = {}
    for agree in (0, 1):
        for flip in (0, 1) if try_flip else (0,):
            net.agreement.fill_(float(agree))
            net.flip.fill_(float(flip))
            print(f"agreement={agree} flip={flip}:", flush=True)
            found[(agree, flip)] = gain_margins(net, vy, truth, footage)
    agree, flip = max(found, key=lambda a: min(found[a][best_setting(found[a])].values()))
    ms, g = best_setting(found[(agree, flip)])
    net.agreement.fill_(float(agree))
    net.flip.fill_(float(flip))
    net.multiscale.fill_(float(ms))
    net.chroma_gain.fill_(g)
    best = ", ".join(f"{k} {v:+.2f}" for k, v in found[(agree, flip)][(ms, g)].items())
    print(f"chosen: agreement={agree} flip={flip} multiscale={ms} gain={g}: {best} dB over flat gray", flush=True)
    nets.save(net, out)


SEARCH_TEMPERATURES = (0.5, 0.7, 1.0, 1.5)  # the members' decodings tried by ``ensemble --search-decoding``
SEARCH_MIXES = (0.0, 0.25, 0.5, 0.75, 1.0)
SEARCH_GAINS = tuple(round(0.4 + 0.05 * i, 2) for i in range(17))  # 0.4 .. 1.2


def member_decodings(member) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """The (temperature, reg_mix) pairs tried for one member: each temperature with each mix below 1, and the
    regression head alone (mix 1, where the temperature is unused: the member's own is kept)."""
    if member.reg is None:
        return [(t, 0.0) for t in SEARCH_TEMPERATURES]
    pairs = [(t, m) for t in SEARCH_TEMPERATURES for m in SEARCH_MIXES if m < 1.0]
    return [*pairs, (float(member.temperature), 1.0)]


def member_parts(member, y, scales: tuple[float, ...], flip: bool):  # type: ignore[no-untyped-def]
    """:meth:`TinyColorNet.decodings` at ``SEARCH_TEMPERATURES``, averaged over ``scales`` and, with ``flip``,
    over the picture and its mirror image (mirrored back), as :class:`TinyColorEnsemble` averages a member's
    chroma."""
    from vsrestore.color.models.tiny import multiscale_chroma

    def one(x):  # type: ignore[no-untyped-def]
        return member.decodings(x, SEARCH_TEMPERATURES)

    out = multiscale_chroma(one, y, scales)
    if flip:
        out = 0.5 * (out + multiscale_chroma(one, y.flip(-1), scales).flip(-1))
    return out


class SearchRow(NamedTuple):
    """One setting tried by :func:`decoding_search` and its held-out margins over flat gray (dB)."""

    worst: float
    agreement: int
    flip: int
    multiscale: int
    decodings: tuple[tuple[float, float], ...]  # (temperature, reg_mix) per member
    gain: float
    margins: dict[str, float]


def decoding_search(net, vy: np.ndarray, truth: np.ndarray, footage: list, try_flip: bool = False) -> list[SearchRow]:  # type: ignore[no-untyped-def,type-arg]
    """Held-out margins over flat gray (dB, as :func:`gain_margins`) of an ensemble under every combination of
    its members' decodings (:func:`member_decodings` for each member), ``agreement``, ``multiscale``, ``flip``
    (only with ``try_flip``) and gain (``SEARCH_GAINS``). One pass of each member per setting of multi-scale
    and flip gives all decodings (:meth:`TinyColorNet.decodings`), and the margins of every gain follow from
    three sums, so the search costs about as much as :func:`gain_margins` plus the per-pixel agreement.
    Returns every setting's :class:`SearchRow`, best worst case first."""
    import itertools

    import torch

    from vsrestore.color.models.tiny import TinyColorNet, hue_agreement

    members = list(net.members)
    temps = SEARCH_TEMPERATURES
    sets = [("photos", [torch.from_numpy(vy[i : i + 64])[:, None] for i in range(0, len(vy), 64)], truth)]
    sets += [(name, ys, tc) for name, ys, tc in footage]
    truth_sq = {name: float(np.mean(tc.astype(np.float64) ** 2)) for name, _, tc in sets}
    combos = list(itertools.product(*[member_decodings(m) for m in members]))
    found: list[SearchRow] = []
    for ms, flip in itertools.product((0, 1), (0, 1) if try_flip else (0,)):
        scales = TinyColorNet.scales if ms else (1.0,)
        with torch.inference_mode():
            cached = {
                name: [torch.cat([member_parts(m, y, scales, bool(flip)) for y in ys]) for m in members]
                for name, ys, _ in sets
            }
        print(f"multiscale={ms} flip={flip}: searching {len(combos)} decodings", flush=True)
        for combo in combos:
            chroma = {}
            for name, per_member in cached.items():
                outs = []
                for p, (temp, mix) in zip(per_member, combo, strict=True):
                    if mix >= 1.0:  # the regression head alone
                        outs.append(p[:, :2])
                    else:  # blended with the bins decoded at that temperature
                        k = 2 + 2 * temps.index(temp)
                        outs.append(mix * p[:, :2] + (1.0 - mix) * p[:, k : k + 2])
                chroma[name] = outs
            for agree in (0, 1) if len(members) > 1 else (0,):
                sums = {}
                for name, _, tc in sets:
                    outs = chroma[name]
                    mean = torch.stack(outs).mean(0)
                    if agree:
                        mean = mean * hue_agreement(outs)
                    tt = torch.from_numpy(tc)
                    sums[name] = (float((mean.double() ** 2).mean()), float((mean.double() * tt).mean()))
                best = None
                for g in SEARCH_GAINS:
                    marg = {}
                    for name, (pp, pt) in sums.items():
                        mse = max(g * g * pp - 2 * g * pt + truth_sq[name], 1e-12)
                        marg[name] = float(10 * np.log10(truth_sq[name] / mse))
                    if best is None or min(marg.values()) > min(best[1].values()):
                        best = (g, marg)
                assert best is not None
                found.append(SearchRow(min(best[1].values()), agree, flip, ms, combo, best[0], best[1]))
    found.sort(key=lambda r: -r.worst)
    return found
