"""Sample-ratio mismatch: are the arm sizes what the allocation planned?"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from segkit.errors import ValidationError

__all__ = ["SRMResult", "srm_check"]

#: The p-value below which a split is flagged (Fabijan et al. 2019 use 0.0005-0.001).
SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SRMResult:
    """Chi-square goodness-of-fit test of the observed arm sizes against the planned allocation."""

    observed: dict[str, int]
    expected: dict[str, float]
    statistic: float
    p_value: float
    threshold: float
    flagged: bool
    method: str = "chi-square goodness of fit (scipy.stats.chisquare)"

    def to_frame(self) -> pd.DataFrame:
        """One row per arm: observed and expected units and shares."""
        total = sum(self.observed.values())
        return pd.DataFrame(
            {
                "arm": list(self.observed),
                "observed": list(self.observed.values()),
                "expected": [self.expected[a] for a in self.observed],
                "observed_share": [v / total for v in self.observed.values()],
                "expected_share": [self.expected[a] / total for a in self.observed],
            }
        )

    def summary(self) -> str:
        """One sentence on the split."""
        shares = ", ".join(
            f"{arm} {n:,} ({n / sum(self.observed.values()):.2%})" for arm, n in self.observed.items()
        )
        verdict = (
            f"SAMPLE RATIO MISMATCH (p = {self.p_value:.2g} < {self.threshold:g}): the split "
            "differs from the plan, so assignment or logging is broken and the results are invalid"
            if self.flagged
            else f"no sample ratio mismatch (p = {self.p_value:.3g} >= {self.threshold:g})"
        )
        return f"Units per arm: {shares}; {verdict}."

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.to_frame().to_html(index=False)


def srm_check(
    counts: Mapping[str, int],
    allocation: Mapping[str, float] | None = None,
    *,
    threshold: float = SRM_THRESHOLD,
) -> SRMResult:
    """Test the observed units per arm against the planned allocation.

    Parameters
    ----------
    counts
        Units (subscribers) per arm.
    allocation
        Planned share or weight per arm (normalised to sum to one); ``None`` means equal split.
    threshold
        Flag the split when the chi-square p-value is below this (default 0.001: at that rate a
        correct split is wrongly flagged once in a thousand tests).

    Returns
    -------
    SRMResult
        Pearson's chi-square goodness-of-fit test (``scipy.stats.chisquare``) with k - 1 degrees
        of freedom (Fabijan et al. 2019, "Diagnosing sample ratio mismatch in online controlled
        experiments", KDD).
    """
    if not 0 < threshold < 1:
        raise ValidationError(f"threshold must be in (0, 1), got {threshold!r}")
    arms = list(counts)
    observed = np.array([counts[a] for a in arms], dtype=float)
    if len(arms) < 2:
        raise ValidationError(f"a sample-ratio check needs at least two arms, got {arms}")
    if not np.isfinite(observed).all() or (observed < 0).any():
        raise ValidationError(f"unit counts must be non-negative numbers, got {dict(counts)}")
    if observed.sum() == 0:
        raise ValidationError(
            f"no units in any arm ({dict(counts)}): there is no split to check; the experiment "
            "has not assigned anyone yet or the arm column is not the assignment")
    weights = _allocation_weights(arms, allocation)
    expected = observed.sum() * weights
    result = stats.chisquare(observed, expected)
    p_value = float(result.pvalue)
    return SRMResult(
        observed={a: int(v) for a, v in zip(arms, observed, strict=True)},
        expected={a: float(v) for a, v in zip(arms, expected, strict=True)},
        statistic=float(result.statistic),
        p_value=p_value,
        threshold=threshold,
        flagged=bool(p_value < threshold),
    )


def _allocation_weights(arms: list[str], allocation: Mapping[str, float] | None) -> np.ndarray:
    if allocation is None:
        return np.full(len(arms), 1.0 / len(arms))
    missing = sorted(set(arms) - set(allocation))
    extra = sorted(set(allocation) - set(arms))
    if missing or extra:
        raise ValidationError(
            f"allocation must name exactly the arms present ({', '.join(arms)}); "
            f"missing: {missing or 'none'}, unknown: {extra or 'none'}"
        )
    weights = np.array([allocation[a] for a in arms], dtype=float)
    if (weights <= 0).any() or not np.isfinite(weights).all():
        raise ValidationError(f"allocation weights must be positive, got {dict(allocation)}")
    return weights / weights.sum()
