"""``next_category`` as a feature column of segment rules (issue 22): ``next_category ==
"home"`` in segments.yaml selects the subscribers whose next-best category is home."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit.cli import app
from segkit.consent import eligible
from segkit.errors import ValidationError
from segkit.features import compute
from segkit.io import Workspace, read_interactions
from segkit.recommend import EASE, Cooccurrence, add_next_category, next_category, weight_events
from segkit.segments import parse_rules

from .test_recommend_export import _build, _with_products

AS_OF = "2024-12-01T00:00:00+00:00"
RULES = """
segments:
  - name: home_next
    where: next_category == "home"
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from segkit.datasets import synthetic

    data = synthetic(300, seed=5)
    path = _build(tmp_path_factory.mktemp("rules") / "ws.duckdb", data.subscribers,
                  _with_products(data.events), data.campaigns)
    return path, data


def _tables(path):
    with Workspace(path, read_only=True) as ws:
        return compute(ws, AS_OF), weight_events(read_interactions(ws))


def test_rule_on_next_category_selects_the_model_category(workspace):
    features, interactions = _tables(workspace[0])
    assert "category" in interactions.columns
    table = add_next_category(features, interactions, model=Cooccurrence())
    assert table.index.equals(features.index) and table["next_category"].notna().all()
    members = parse_rules(RULES).evaluate(table)["home_next"]
    # independent: next_category of the same model fitted by hand, compared in pandas
    fitted = Cooccurrence().fit(interactions, pd.Timestamp(features.attrs["as_of"]))
    by_hand = next_category(fitted, features.index).set_index("subscriber_id")["next_category"]
    expected = by_hand.reindex(features.index.astype(str)).eq("home").to_numpy()
    assert (members.to_numpy() == expected).all()
    assert 0 < members.sum() < len(members)
    # the default model is EASE; later interactions never reach the column
    late = interactions.assign(ts=interactions["ts"] + pd.Timedelta(days=400))
    again = add_next_category(features, pd.concat([interactions, late], ignore_index=True))
    pd.testing.assert_series_equal(again["next_category"], add_next_category(features, interactions,
                                                                             model=EASE())["next_category"])


def test_export_segment_reads_next_category_from_the_workspace(workspace, tmp_path):
    path, data = workspace
    (tmp_path / "segments.yaml").write_text(RULES)
    out = tmp_path / "home.csv"
    result = CliRunner().invoke(app, ["-w", str(path), "export", "segment", "home_next", "--as-of", AS_OF,
                                      "--rules", str(tmp_path / "segments.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    got = set(pd.read_csv(out, dtype=str)["subscriber_id"])
    features, interactions = _tables(path)
    table = add_next_category(features, interactions)
    home = table.index[table["next_category"] == "home"].astype(str)
    gate = eligible(home, data.subscribers, events=data.events)
    assert got == set(gate.eligible) and got


def test_next_category_needs_categories(workspace, tmp_path):
    features, interactions = _tables(workspace[0])
    with pytest.raises(ValidationError, match="needs a category column"):
        add_next_category(features, interactions.drop(columns="category"))
    with pytest.raises(ValidationError, match="attrs"):
        add_next_category(pd.DataFrame(index=features.index), interactions)
