"""Reading and writing checkpoints (a single :class:`TinyColorNet` or a :class:`TinyColorEnsemble`)."""

from __future__ import annotations

from pathlib import Path


def save(net, out: Path) -> None:  # type: ignore[no-untyped-def]
    import torch

    # scalars kept in float32 (the members' too)
    keep = ("temperature", "reg_mix", "chroma_gain", "multiscale", "agreement", "flip")
    sd = {
        k: (v.half() if v.is_floating_point() and k.rsplit(".", 1)[-1] not in keep else v)
        for k, v in net.state_dict().items()
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    torch.save(sd, tmp)
    tmp.replace(out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")



def load_net(checkpoint: Path):  # type: ignore[no-untyped-def]
    """A TinyColorNet or TinyColorEnsemble checkpoint as a float32 module in eval mode (buffers missing in old
    checkpoints filled)."""
    import torch

    from vsrestore.color.loader import build_tiny

    if not checkpoint.is_file():
        raise SystemExit(f"checkpoint {checkpoint} does not exist (make one with: train --out {checkpoint})")
    sd = torch.load(checkpoint, map_location="cpu", weights_only=True)
    net = build_tiny(sd)
    for k, v in net.state_dict().items():
        if k.endswith("bin_bias"):
            sd.setdefault(k, torch.zeros_like(v))  # the first checkpoints had no bias
    net.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    return net.eval()


def average_net(nets: list):  # type: ignore[no-untyped-def,type-arg]
    """The :class:`TinyColorEnsemble` of ``nets`` (each keeps its own decoding; their gains set to 1), with
    multi-scale on and gain 1 (:func:`gain_margins` tries the others)."""
    from vsrestore.color.models.tiny import TinyColorEnsemble

    for n in nets:
        n.chroma_gain.fill_(1.0)
    return TinyColorEnsemble(nets).eval()
