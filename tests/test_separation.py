"""copy_auc: the probes' measure of how well copies are told from new frames."""

from __future__ import annotations

import numpy as np

from vsrestore.testing.separation import copy_auc


def test_copy_auc() -> None:
    assert copy_auc(np.array([0.1, 0.2]), np.array([0.5, 0.6, 0.7])) == 1.0  # every copy below every new frame
    assert copy_auc(np.array([0.5, 0.6]), np.array([0.1, 0.2])) == 0.0
    assert copy_auc(np.array([0.3, 0.3]), np.array([0.3, 0.3])) == 0.5  # ties count half
    assert copy_auc(np.array([0.1, 0.4]), np.array([0.2, 0.3])) == 0.5
    assert copy_auc(np.array([0.1, np.nan, 0.2]), np.array([0.5, np.nan, 0.6])) == 1.0  # not measured: left out
    assert np.isnan(copy_auc(np.array([0.1]), np.array([0.5, 0.6])))
    rng = np.random.default_rng(0)
    assert abs(copy_auc(rng.normal(0, 1, 4000), rng.normal(0, 1, 4000)) - 0.5) < 0.02
