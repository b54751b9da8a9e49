"""How RIFE is run: flow resolution, ensemble, and how frames are padded to the size the network needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .arch import RifeSpec
from .versions import SCALES, SPECS

__all__ = ["Padding", "RifeSettings", "pad_multiple"]

#: The reference pads every side to a multiple of ``max(REFERENCE_MULTIPLE, REFERENCE_MULTIPLE / scale)``.
REFERENCE_MULTIPLE = 128


class Padding(StrEnum):
    """How a frame is padded (right and bottom) to the size the network needs; cropped back afterwards."""

    #: zeros to a multiple of ``max(128, 128 / scale)``, as Practical-RIFE's ``inference_video.py`` does
    #: (``tmp = max(128, int(128 / args.scale))``; ``F.pad(img, (0, pw - w, 0, ph - h))``): the same
    #: output as the reference for the same weights.
    REFERENCE = "reference"
    #: mirror the picture to the smallest size the version allows at this scale
    #: (``RifeSpec.multiple_at(scale)``: 32, 64 or 128 at scale 1): less padding, no black border for the
    #: coarsest blocks to see, but not what the weights were run with by their authors.
    REFLECT = "reflect"


@dataclass(frozen=True)
class RifeSettings:
    """How the RIFE engine runs (defaults: the reference's).

    :param scale: flow resolution relative to the frame, one of 0.25, 0.5, 1.0, 2.0, 4.0 (the reference's
        ``--scale``): 0.5 for 4K or very fast motion, 0.25 for 8K; above 1 for small frames. Every block
        then works at ``block scale / scale`` (``[8, 4, 2, 1] / scale``; 4.25/4.26 ``[16, 8, 4, 2, 1] /
        scale``; 4.25-lite ``[32, 16, 8, 4, 1] / scale``).
    :param ensemble: also run every block on the swapped pair and average (smoother where the flow is
        uncertain, about twice the time); only versions 4.5-4.20 and 4.24 have it.
    :param padding: :class:`Padding` (``"reference"``, default, or ``"reflect"``).
    :raises ValueError: a scale the reference does not accept, or an unknown padding.
    """

    scale: float = 1.0
    ensemble: bool = False
    padding: Padding | str = Padding.REFERENCE

    def __post_init__(self) -> None:
        try:
            scale = float(self.scale)
        except (TypeError, ValueError):
            scale = float("nan")
        if scale not in SCALES:
            raise ValueError(
                f"RifeSettings: scale={self.scale!r} is not one RIFE supports; use one of "
                f"{', '.join(str(s) for s in SCALES)} (0.5 for 4K or fast motion)"
            )
        try:
            object.__setattr__(self, "padding", Padding(self.padding))
        except ValueError as e:
            raise ValueError(
                f"RifeSettings: padding={self.padding!r} is not known; use "
                f"{' or '.join(repr(p.value) for p in Padding)}"
            ) from e
        object.__setattr__(self, "scale", scale)

    def check(self, spec: RifeSpec) -> None:
        """Refuse settings the loaded version cannot run.

        :raises ValueError: ensemble asked of a version without it.
        """
        if self.ensemble and not spec.ensemble:
            have = ", ".join(v for s in SPECS if s.ensemble for v in s.versions)
            raise ValueError(
                f"RifeSettings: ensemble=True, but this model is RIFE {spec.name} ({', '.join(spec.versions)}), "
                f"which has no ensemble pass; use ensemble=False (versions with it: {have})"
            )


def pad_multiple(spec: RifeSpec, settings: RifeSettings) -> int:
    """Sides are padded to a multiple of this (see :class:`Padding`)."""
    if Padding(settings.padding) == Padding.REFERENCE:
        return max(REFERENCE_MULTIPLE, int(REFERENCE_MULTIPLE / settings.scale))
    return spec.multiple_at(settings.scale)
