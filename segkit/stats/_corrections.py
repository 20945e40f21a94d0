"""Multiple-comparison corrections across arms, metrics and segments."""

from __future__ import annotations

import numpy as np
from statsmodels.stats.multitest import multipletests

from segkit.errors import ValidationError

__all__ = ["CORRECTIONS", "adjust_p_values"]

#: Valid ``correction`` values and the statsmodels method each maps to.
CORRECTIONS = {
    "bh": "fdr_bh",
    "bonferroni": "bonferroni",
    "holm": "holm",
    "none": None,
}


def check_correction(correction: str) -> str:
    """Return ``correction`` or raise a ValidationError listing the valid choices."""
    if correction not in CORRECTIONS:
        raise ValidationError(
            f"unknown correction {correction!r}; valid: {', '.join(CORRECTIONS)} "
            "(holm controls the family-wise error rate, bh the false discovery rate)"
        )
    return correction


def adjust_p_values(p_values: np.ndarray, correction: str = "holm") -> np.ndarray:
    """Adjust a family of p-values for multiple comparisons.

    ``"holm"`` is Holm's (1979) step-down procedure (controls the family-wise error rate),
    ``"bh"`` Benjamini & Hochberg's (1995) step-up procedure (controls the false discovery rate),
    ``"bonferroni"`` multiplies by the family size, ``"none"`` returns the p-values unchanged.
    BH and Bonferroni are computed with ``statsmodels.stats.multitest.multipletests``; Holm is the
    same three lines written here, because statsmodels' Holm branch calls ``gc.collect()`` (about
    0.15 s per call in a process holding DataFrames, which dominates segment and simulation runs);
    the tests check it against ``multipletests(method="holm")``. NaN p-values (an undefined test)
    stay NaN and do not count towards the family.
    """
    check_correction(correction)
    p = np.asarray(p_values, dtype=float)
    adjusted = p.copy()
    method = CORRECTIONS[correction]
    finite = ~np.isnan(p)
    if method == "holm" and finite.any():
        adjusted[finite] = _holm(p[finite])
    elif method is not None and finite.any():
        adjusted[finite] = multipletests(p[finite], method=method)[1]
    return adjusted


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979): sorted p-values times (m, m-1, ..., 1), made monotone, capped at 1."""
    order = np.argsort(p, kind="stable")
    scaled = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(scaled, 1.0)
    return adjusted
