"""Export frame, the `segkit sendtime export` command, and the send-time charts."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit.charts import sendtime_evaluation_chart, sendtime_heatmap_chart
from segkit.errors import InputError, ValidationError
from segkit.sendtime import EXPORT_COLUMNS, export_frame, heatmap_frame


def test_export_frame(recs):
    out = export_frame(recs)
    assert tuple(out.columns) == EXPORT_COLUMNS
    assert out["subscriber_id"].is_monotonic_increasing and len(out) == len(recs)
    assert out.attrs["as_of"] == recs.attrs["as_of"]
    with pytest.raises(InputError, match="timezone"):
        export_frame(recs.drop(columns="timezone"))


def test_heatmap_frame_and_chart(tables):
    frame = heatmap_frame(tables, "2024-06-01")
    assert len(frame) == frame["segment"].nunique() * 7 * 24
    events = tables["events"]
    assert frame["opens"].sum() <= ((events["event_type"] == "open") & (events["ts"] <= "2024-06-01")).sum()
    chart = sendtime_heatmap_chart(frame)
    assert isinstance(chart, alt.FacetChart)
    chart.to_dict()
    with pytest.raises(ValidationError, match="local_hour"):
        sendtime_heatmap_chart(frame.drop(columns="local_hour"))


def test_evaluation_chart():
    rates = pd.DataFrame({"method": ["segkit", "global_hour"], "window_hours": [1, 1],
                          "hit_rate": [0.7, 0.3], "ci_low": [0.65, 0.25], "ci_high": [0.75, 0.35]})
    chart = sendtime_evaluation_chart(rates)
    assert chart.to_dict()["layer"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, synthetic_workspace):
    return synthetic_workspace(tmp_path_factory.mktemp("ws") / "ws.duckdb", 300, seed=5)


def test_cli_export(workspace, tmp_path):
    import segkit.cli._sendtime  # noqa: F401  registers the command
    from segkit.cli import app

    out = tmp_path / "send_times.csv"
    result = CliRunner().invoke(app, ["--workspace", str(workspace), "sendtime", "export",
                                      "--as-of", "2024-12-01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert tuple(table.columns) == EXPORT_COLUMNS
    assert 0 < len(table) <= 300
    assert table["recommended_utc_hour"].between(0, 23).all()
    assert "may be emailed" in result.output and "excluded" in result.output


def test_cli_export_errors(workspace, tmp_path):
    import segkit.cli._sendtime  # noqa: F401
    from segkit.cli import app

    bad = CliRunner().invoke(app, ["--workspace", str(workspace), "sendtime", "export",
                                   "--as-of", "someday", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "someday" in bad.output
    missing = CliRunner().invoke(app, ["--workspace", str(tmp_path / "nope.duckdb"), "sendtime",
                                       "export", "--as-of", "2024-12-01", "--out", str(tmp_path / "x.csv")])
    assert missing.exit_code == 2 and "not found" in missing.output
