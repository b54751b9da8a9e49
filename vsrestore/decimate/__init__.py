"""vsrestore.decimate: find repeated frames with a learned repeat template and restore the film's cadence.

``decimate(clip)`` returns each film frame once, in order, at the film's rate; ``analyze(clip)`` returns the
decisions (:class:`Analysis`); ``vsrestore analyze INPUT`` writes a report, a timeline plot and an override file.
"""

from vsrestore.decimate.decide import Analysis, DecisionKind, analyze
from vsrestore.decimate.metrics import MetricParams
from vsrestore.decimate.output import Pick, decimate, render_analysis
from vsrestore.decimate.overrides import OverrideError, Overrides, parse_overrides, read_overrides
from vsrestore.decimate.sidecar import SidecarError
from vsrestore.decimate.template import HmmParams, Template

__all__ = [
    "Analysis",
    "DecisionKind",
    "HmmParams",
    "MetricParams",
    "OverrideError",
    "Overrides",
    "Pick",
    "SidecarError",
    "Template",
    "analyze",
    "decimate",
    "parse_overrides",
    "read_overrides",
    "render_analysis",
]
