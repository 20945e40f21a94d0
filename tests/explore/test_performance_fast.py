"""The explorer's performance table: :func:`segkit.segments.segment_performance` computes every
segment at once (one matrix product of group sums); it must give the table of the former path,
one :func:`segkit.stats.analyze` per segment (kept here as the reference), to rounding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from segkit.errors import ValidationError
from segkit.segments import (
    PERFORMANCE_METRICS,
    engagement_tiers,
    lifecycle_stages,
    segment_performance,
)
from segkit.stats import Metric, adjust_p_values, analyze, ratio_estimate

WINDOW = 90


def _units(features: pd.DataFrame) -> pd.DataFrame:
    stems = ["purchase_count", "revenue", "sends", "unique_clicks", "unique_opens", "unsubscribes"]
    units = features[[f"{s}_{WINDOW}d" for s in stems]].set_axis(stems, axis=1).astype(float).fillna(0.0)
    units["converted"] = (units["purchase_count"] > 0).astype(float)
    return units


def reference_performance(features, memberships: pd.DataFrame, alpha=0.05, correction="holm"):
    """The per-segment path: each segment against the rest with analyze(), own intervals with
    ratio_estimate / Wilson, then one correction across all rows."""
    units = _units(features)
    keep = (units["sends"] > 0).to_numpy()
    units, memberships = units[keep], memberships[keep]
    specs = [Metric(name, kind="proportion", column="converted") if pair is None
             else Metric(name, kind="ratio", numerator=pair[0], denominator=pair[1])
             for name, pair in PERFORMANCE_METRICS.items()]
    z = float(norm.ppf(1 - alpha / 2))
    rows = []
    for segment in memberships.columns:
        inside = memberships[segment].to_numpy(dtype=bool)
        if inside.sum() < 2 or (~inside).sum() < 2:
            continue
        result = analyze(units.assign(arm=np.where(inside, "segment", "rest")), arm="arm",
                         control="rest", metrics=specs, alpha=alpha, correction="none",
                         mann_whitney=False)
        own = units[inside]
        for test in result.to_frame().itertuples():
            pair = PERFORMANCE_METRICS[test.metric]
            if pair is None:
                count = own["converted"].sum()
                low, high = proportion_confint(count, len(own), alpha=alpha, method="wilson")
                value = count / len(own)
            else:
                value, variance = ratio_estimate(own[pair[0]].to_numpy(), own[pair[1]].to_numpy())
                low, high = value - z * np.sqrt(variance), value + z * np.sqrt(variance)
            rows.append({
                "segment": segment, "metric": test.metric, "recipients": int(inside.sum()),
                "sends": float(own["sends"].sum()), "value": value, "ci_low": low, "ci_high": high,
                "rest_value": test.control_mean, "abs_diff": test.abs_lift,
                "abs_diff_ci_low": test.abs_lift_ci_low, "abs_diff_ci_high": test.abs_lift_ci_high,
                "p_value": test.p_value, "method": test.method,
            })
    table = pd.DataFrame(rows)
    table["p_value_adjusted"] = adjust_p_values(table["p_value"].to_numpy(), correction)
    table["significant"] = table["p_value_adjusted"] < alpha
    return table


def _one_hot(labels: pd.Series) -> pd.DataFrame:
    names = labels.cat.categories if isinstance(labels.dtype, pd.CategoricalDtype) else labels.dropna().unique()
    return pd.DataFrame({str(n): (labels == n).to_numpy() for n in names}, index=labels.index)


def assert_same_table(fast: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(fast.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(fast[["segment", "metric", "recipients", "method", "significant"]],
                                  expected[["segment", "metric", "recipients", "method", "significant"]])
    numbers = [c for c in fast.columns if c not in {"segment", "metric", "recipients", "method", "significant"}]
    pd.testing.assert_frame_equal(fast[numbers], expected[numbers], check_exact=False, rtol=1e-9, atol=1e-13)
    assert (fast["p_value"].isna() == expected["p_value"].isna()).all()


def test_tiers_equal_the_per_segment_analyze(features):
    labels = engagement_tiers(features)
    fast = segment_performance(features, labels).to_frame()
    assert_same_table(fast, reference_performance(features, _one_hot(labels)))
    assert len(fast) == len(PERFORMANCE_METRICS) * fast["segment"].nunique()


@pytest.mark.parametrize(("alpha", "correction"), [(0.1, "holm"), (0.01, "bh"), (0.05, "bonferroni")])
def test_alpha_and_corrections_equal_the_per_segment_analyze(features, alpha, correction):
    labels = lifecycle_stages(features)
    fast = segment_performance(features, labels, alpha=alpha, correction=correction).to_frame()
    assert_same_table(fast, reference_performance(features, _one_hot(labels), alpha, correction))


def test_overlapping_tiny_and_degenerate_segments(features):
    """Overlapping bool segments, one too small to test (skipped), one without opens (its
    click-to-open rate has no test: NaN, left out of the Holm family), unlabelled subscribers."""
    recipients = features[f"sends_{WINDOW}d"].fillna(0) > 0
    opens = features[f"unique_opens_{WINDOW}d"].fillna(0)
    first_two = pd.Series(False, index=features.index)
    first_two[features.index[recipients.to_numpy()][:1]] = True
    frame = pd.DataFrame({
        "buyers": features[f"purchase_count_{WINDOW}d"].fillna(0) > 0,
        "heavy_senders": features[f"sends_{WINDOW}d"].fillna(0) >= features[f"sends_{WINDOW}d"].median(),
        "never_opened": recipients & (opens == 0),
        "just_one": first_two,
    })
    fast = segment_performance(features, frame).to_frame()
    expected = reference_performance(features, frame)
    assert_same_table(fast, expected)
    assert "just_one" not in set(fast["segment"])
    never = fast[(fast["segment"] == "never_opened") & (fast["metric"] == "click_to_open_rate")]
    assert never["p_value"].isna().all() and never["p_value_adjusted"].isna().all()
    labels = engagement_tiers(features).astype(object).where(recipients.to_numpy() & (opens > 0).to_numpy())
    assert_same_table(segment_performance(features, labels).to_frame(),
                      reference_performance(features, _one_hot(labels)))


def test_explorer_filtered_view_equals_the_per_segment_analyze(data, features):
    from segkit.explore import ExplorerState, explore

    from .conftest import AS_OF

    state = ExplorerState(as_of=AS_OF, scheme="rfm", consent="emailable")
    result = explore(data, state)
    members = features[result.selected]
    labels = pd.Series(result.labels[result.selected].to_numpy(), index=members.index)  # as explore passes them
    assert_same_table(result.performance.to_frame(), reference_performance(members, _one_hot(labels)))


def test_bad_arguments_are_rejected_as_before(features):
    labels = engagement_tiers(features)
    with pytest.raises(ValidationError, match="alpha"):
        segment_performance(features, labels, alpha=1.5)
    with pytest.raises(ValidationError, match="correction"):
        segment_performance(features, labels, correction="sidak")
    with pytest.raises(ValidationError, match="at least 2 recipients"):
        segment_performance(features, pd.Series("everyone", index=features.index))
    broken = features.copy()
    broken[f"revenue_{WINDOW}d"] = broken[f"revenue_{WINDOW}d"].astype(float)
    broken.loc[broken.index[(broken[f"sends_{WINDOW}d"].fillna(0) > 0).to_numpy()][0],
               f"revenue_{WINDOW}d"] = np.inf
    with pytest.raises(ValidationError, match=f"revenue_{WINDOW}d"):
        segment_performance(broken, labels)


@pytest.mark.parametrize("segments", [3, 63, 70])
def test_atoms_group_units_with_the_same_memberships(segments):
    """Units are grouped by membership pattern, with a bit key (<= 62 segments) or packed rows."""
    from segkit.segments._performance import _atoms

    rng = np.random.default_rng(segments)
    patterns = rng.random((5, segments)) < 0.5
    drawn = rng.integers(0, 5, 300)
    codes, atoms = _atoms(patterns[drawn])
    assert (atoms[codes] == patterns[drawn]).all()
    assert len(atoms) == len(np.unique(patterns[drawn], axis=0))
