"""Rule parsing, validation messages, pandas evaluation, Ibis compilation, primary segment."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

import segkit.segments as seg
from segkit.errors import ValidationError
from segkit.segments import parse_rules, primary_segment

YAML = """
segments:
  - name: buyers_at_risk
    description: bought, but not lately
    where:
      all:
        - purchase_count_365d >= 1
        - {feature: days_since_last_purchase, op: ">", value: 180}
  - name: openers
    where: open_rate_90d >= 0.5
  - name: quiet_or_unknown
    where:
      any:
        - days_since_last_open is_null
        - {feature: days_since_last_open, op: between, value: [100, 1000]}
  - name: not_buyers
    where:
      not: {feature: purchase_count_365d, op: in, value: [1, 2, 3]}
priority: [openers, buyers_at_risk]
"""


def test_all_exported_names_are_sorted_and_present() -> None:
    assert seg.__all__ == sorted(seg.__all__)
    assert all(hasattr(seg, name) for name in seg.__all__)


def test_evaluate_matches_hand_computed_membership(features: pd.DataFrame) -> None:
    membership = parse_rules(YAML).evaluate(features)
    assert list(membership.columns) == ["buyers_at_risk", "openers", "quiet_or_unknown", "not_buyers"]
    assert membership.index.equals(features.index)
    assert list(membership.index[membership["buyers_at_risk"]]) == ["b"]
    assert list(membership.index[membership["openers"]]) == ["a", "b", "f"]  # NaN never matches
    assert list(membership.index[membership["quiet_or_unknown"]]) == ["e", "f"]
    assert list(membership.index[membership["not_buyers"]]) == ["c", "d", "e", "f"]


def test_primary_segment_follows_priority_and_keeps_defaults(features: pd.DataFrame) -> None:
    rules = parse_rules(YAML)
    assert rules.priority == ("openers", "buyers_at_risk", "quiet_or_unknown", "not_buyers")
    primary = primary_segment(rules.evaluate(features), rules.priority)
    assert primary.to_dict() == {
        "a": "openers", "b": "openers", "c": "not_buyers", "d": "not_buyers",
        "e": "quiet_or_unknown", "f": "openers",
    }
    nobody = primary_segment(pd.DataFrame({"x": [False]}, index=["z"]))
    assert nobody.iloc[0] == "unassigned"


def test_nullable_boolean_features_compare_without_na(features: pd.DataFrame) -> None:
    rules = parse_rules({"segments": [{"name": "ok", "where": "consent == true"}]})
    assert rules.evaluate(features)["ok"].tolist() == [True, True, True, False, False, True]


def test_unknown_feature_names_the_closest_valid_one(features: pd.DataFrame) -> None:
    rules = parse_rules({"segments": [{"name": "x", "where": "open_rate_90 >= 0.5"}]})
    with pytest.raises(ValidationError, match=r"unknown feature 'open_rate_90'; did you mean 'open_rate_90d'"):
        rules.evaluate(features)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"feature": "open_rate_90d", "op": "=>", "value": 1}, r"unknown operator '=>'.*did you mean '>='"),
        ({"feature": "open_rate_90d", "op": "between", "value": 1}, r"needs \[low, high\]"),
        ({"feature": "open_rate_90d", "op": "in", "value": 1}, r"needs a list"),
        ({"feature": "open_rate_90d", "op": ">", "value": None}, r"needs a single value"),
        ({"feature": "open_rate_90d", "op": ">", "valu": 1}, r"unknown key 'valu'; did you mean 'value'"),
        ({"alll": []}, r"unknown group 'alll'; did you mean 'all'"),
        ({"all": "x"}, r"'all' takes a list"),
        ("open_rate_90d ~ 3", r"cannot read condition"),
    ],
)
def test_structural_errors_are_specific(where: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_rules({"segments": [{"name": "s", "where": where}]})


def test_rule_set_level_errors() -> None:
    with pytest.raises(ValidationError, match="repeated: s"):
        parse_rules({"segments": [{"name": "s", "where": "a > 1"}, {"name": "s", "where": "a > 2"}]})
    with pytest.raises(ValidationError, match="unknown segment 'sx'; did you mean 's'"):
        parse_rules({"segments": [{"name": "s", "where": "a > 1"}], "priority": ["sx"]})
    with pytest.raises(ValidationError, match="not valid YAML"):
        parse_rules("segments: [")
    with pytest.raises(ValidationError, match="top-level 'segments:'"):
        parse_rules("42")
    with pytest.raises(ValidationError, match="segment #1 needs .name. and .where."):
        parse_rules("- 1\n- 2\n")


def test_shorthand_value_is_data_never_code(features: pd.DataFrame) -> None:
    rules = parse_rules({"segments": [{"name": "s", "where": "open_rate_90d == __import__('os')"}]})
    comparison = rules.rules[0].condition
    assert comparison.value == "__import__('os')"  # a plain string, never executed
    with pytest.raises(ValidationError, match="'open_rate_90d' is number"):  # nor compared
        rules.evaluate(features)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ('purchase_count_365d >= "1; DROP TABLE events"',
         r"feature 'purchase_count_365d' is number, so '>=' needs a number such as 1 or 0.5; "
         r"got str '1; DROP TABLE events'"),
        ({"feature": "open_rate_90d", "op": "between", "value": [0.1, "high"]}, r"got str 'high'"),
        ({"feature": "purchase_count_365d", "op": "in", "value": [1, "2"]}, r"got str '2'"),
        ("consent == 1", r"'consent' is bool, so '==' needs true or false; got int 1"),
        ("purchase_count_365d > true", r"needs a number .*; got bool True"),
    ],
)
def test_values_must_fit_the_feature_type(features: pd.DataFrame, where, message) -> None:
    rules = parse_rules({"segments": [{"name": "s", "where": where}]})
    with pytest.raises(ValidationError, match=message):
        rules.evaluate(features)
    with pytest.raises(ValidationError, match=message):
        rules.to_ibis(ibis.memtable(features.reset_index()))


def test_rule_file_with_text_for_a_number_exits_2_in_one_line(tmp_path) -> None:
    from typer.testing import CliRunner

    from segkit.cli import app
    from segkit.io import Workspace

    workspace = tmp_path / "ws.duckdb"
    with Workspace(workspace) as ws:
        ws.ingest("subscribers", pd.DataFrame({
            "subscriber_id": ["a", "b"], "email": ["a@example.com", "b@example.com"],
            "signup_at": ["2024-01-01T00:00:00Z"] * 2, "consent": [True, True]}))
        ws.ingest("events", pd.DataFrame({
            "subscriber_id": ["a"], "event_type": ["purchase"], "ts": ["2024-06-01T00:00:00Z"],
            "value": [10.0]}))
    rules = tmp_path / "segments.yaml"
    rules.write_text('segments:\n  - name: s\n    where: purchase_count_365d >= "1; DROP TABLE events"\n')
    out = tmp_path / "s.csv"
    result = CliRunner().invoke(app, ["-w", str(workspace), "export", "segment", "s", "--rules",
                                      str(rules), "--as-of", "2024-12-31", "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "feature 'purchase_count_365d' is number" in lines[0]
    assert not out.exists()


def test_ibis_compilation_agrees_with_pandas(features: pd.DataFrame) -> None:
    rules = parse_rules(YAML)
    frame = features.drop(columns=["consent"]).reset_index()
    table = ibis.memtable(frame)
    expressions = rules.to_ibis(table)
    result = table.select("subscriber_id", **expressions).to_pandas().set_index("subscriber_id")
    expected = rules.evaluate(features)
    pd.testing.assert_frame_equal(result.loc[expected.index].astype(bool), expected, check_names=False)


def test_example_yaml_in_notebooks_is_valid() -> None:
    from pathlib import Path

    import segkit.features

    text = (Path(__file__).parents[2] / "notebooks" / "segments.yaml").read_text()
    rules = parse_rules(text)
    rules.validate(segkit.features.feature_columns())
    assert len(rules.rules) >= 5


def test_alias_bomb_in_a_rule_file_fails_fast() -> None:
    import time

    levels = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"] + [
        f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join([f'*{chr(97 + k)}'] * 9)}]" for k in range(8)]
    text = "\n".join(levels) + "\nsegments:\n  - name: s\n    where: {feature: x, op: in, value: *i}\n"
    started = time.perf_counter()
    with pytest.raises(ValidationError, match="segment rules expands to more than"):
        parse_rules(text)
    assert time.perf_counter() - started < 2
