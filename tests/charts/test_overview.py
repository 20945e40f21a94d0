"""Overview charts are valid Vega-Lite built from the summary frames."""

from __future__ import annotations

import pandas as pd

from segkit.charts import (
    events_per_week_chart,
    machine_opens_chart,
    quarantine_reasons_chart,
    timezone_chart,
)


def test_overview_charts_compile():
    weeks = pd.to_datetime(["2024-01-01", "2024-01-08"])
    weekly_events = pd.DataFrame({"week": weeks.repeat(2), "event_type": ["open", "send"] * 2,
                                  "events": [1, 2, 3, 4]})
    weekly_opens = pd.DataFrame({"week": weeks, "human_opens": [1, 2], "machine_opens": [3, 0],
                                 "machine_share": [0.75, 0.0]})
    reasons = pd.DataFrame({"table_name": ["events"], "column_name": ["ts"], "reason": ["bad"], "rows": [2]})
    zones = pd.DataFrame({"timezone": ["UTC"], "subscribers": [3], "share": [1.0]})
    charts = [events_per_week_chart(weekly_events), machine_opens_chart(weekly_opens),
              quarantine_reasons_chart(reasons), timezone_chart(zones)]
    for chart in charts:
        spec = chart.to_dict()  # validates against the Vega-Lite schema
        assert spec["title"]
    opens = next(iter(charts[1].to_dict()["datasets"].values()))
    assert {row["kind"] for row in opens} == {"person", "machine"} and sum(r["opens"] for r in opens) == 6


def test_clv_decile_chart_names_missing_columns():
    import pandas as pd
    import pytest

    from segkit.charts import clv_decile_chart
    from segkit.errors import ValidationError

    with pytest.raises(ValidationError, match=r"clv_decile_chart: missing column\(s\) clv_mean, customers"):
        clv_decile_chart(pd.DataFrame({"decile": [1], "lower_mean": [0.0], "upper_mean": [1.0],
                                       "share_of_clv": [1.0]}))
