"""Notebook helpers escape data at the source and mask email addresses."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd
import pytest

from segkit.reports import display
from segkit.reports.display import INCLUDE_PII_ENV, RUN_DIR_ENV

HOSTILE = "<script>document.title='x'</script>"


@pytest.fixture
def shown(monkeypatch):
    bundles = []
    monkeypatch.setattr(display, "_display", bundles.append)
    monkeypatch.delenv(INCLUDE_PII_ENV, raising=False)
    return bundles


def test_table_escapes_cells_and_headers_and_masks_emails(shown):
    frame = pd.DataFrame({HOSTILE: [HOSTILE, "ann@example.com wrote"], "n": [1234567, 2],
                          "share": [0.5, float("nan")]})
    display.show_table(frame, caption="<b>cap</b>")
    page = shown[0]["text/html"]
    assert "<script>" not in page and "&lt;script&gt;document.title=&#x27;x&#x27;&lt;/script&gt;" in page
    assert "ann@example.com" not in page and "[email hidden] wrote" in page
    assert "1,234,567" in page and "&lt;b&gt;cap&lt;/b&gt;" in page
    assert "ann@example.com" not in shown[0]["text/plain"]


def test_email_columns_are_dropped_unless_pii_is_included(shown, monkeypatch):
    frame = pd.DataFrame({"subscriber_id": ["s1"], "email": ["bob@example.org"]})
    display.show_table(frame)
    assert "email" not in shown[-1]["text/html"]
    monkeypatch.setenv(INCLUDE_PII_ENV, "1")
    display.show_table(frame)
    assert "bob@example.org" in shown[-1]["text/html"]


def test_table_notes_rows_left_out(shown):
    display.show_table(pd.DataFrame({"x": range(80)}), max_rows=10)
    assert "Showing 10 of 80 rows." in shown[0]["text/html"]


def test_markdown_values_are_escaped_but_numbers_keep_format_specs(shown):
    display.show_markdown("Campaign **{name}** reached {share:.1%} ({n:,})", name=HOSTILE + " *x*",
                          share=0.1234, n=12000)
    text = shown[0]["text/markdown"]
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert r"\*x\*" in text and "12.3%" in text and "12,000" in text


def test_chart_spec_masks_emails(shown):
    chart = alt.Chart(pd.DataFrame({"who": ["eve@example.net"], "n": [1]})).mark_bar().encode(x="who", y="n")
    display.show_chart(chart)
    (mime,) = [m for m in shown[0] if "vegalite" in m]
    assert "eve@example.net" not in json.dumps(shown[0][mime])


def test_write_summary_writes_into_the_run_directory(tmp_path, monkeypatch):
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path))
    summary = display.write_summary({"n": pd.Series([3]).iloc[0], "when": pd.Timestamp("2024-01-01", tz="UTC")},
                                    parameters={"weeks": 4}, data_period=(pd.Timestamp("2024-01-01"),
                                                                          pd.Timestamp("2024-02-01")),
                                    fingerprint="abc")
    stored = json.loads((tmp_path / "summary.json").read_text())
    assert stored == summary
    assert stored["numbers"] == {"n": 3, "when": "2024-01-01T00:00:00+00:00"}
    assert stored["data_period"][1].startswith("2024-02-01") and stored["segkit_version"]


def test_write_summary_outside_a_run_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    display.write_summary({}, parameters={}, data_period=None, fingerprint=None)
    assert list(tmp_path.iterdir()) == []


def test_cells_format_missing_booleans_and_numbers(shown):
    import numpy as np

    frame = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "flag": [np.True_, np.False_],
                          "when": [pd.Timestamp("2024-01-01"), pd.NaT], "x": [1.23456, np.nan]})
    display.show_table(frame, digits=3)
    page = shown[0]["text/html"]
    assert "&lt;NA&gt;" not in page and "NaT" not in page and "nan" not in page
    assert "<td>yes</td>" in page and "<td>no</td>" in page and "1.235" in page


def test_method_card_escapes_and_flags_insufficient_data():
    from segkit.reports.display import method_card_html

    card = method_card_html("BG/NBD <b>", data_window="1997-01-01 to 1997-09-30",
                            assumptions=["purchases follow a Poisson process", "a & b"],
                            validation="holdout MAE 0.3", verdict="only 12 repeat buyers",
                            sufficient=False)
    assert "BG/NBD &lt;b&gt;" in card and "a &amp; b" in card
    assert "sk-card-warn" in card and "Data do not suffice" in card
    ok = method_card_html("z-test", data_window="w", assumptions="independent recipients",
                          validation="n/a", verdict="enough", sufficient=True)
    assert "sk-card-ok" in ok and "Data suffice" in ok


def test_chart_run_interactively_is_also_an_offline_widget(shown, monkeypatch):
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    display.show_chart(alt.Chart(pd.DataFrame({"n": [1]}), title="c").mark_bar().encode(x="n"))
    assert "application/vnd.jupyter.widget-view+json" in shown[0]
    assert "application/vnd.vegalite.v6+json" in shown[0] and shown[0]["text/plain"] == "<chart: c>"


def test_chart_in_a_report_run_is_only_the_spec(shown, monkeypatch, tmp_path):
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path))
    display.show_chart(alt.Chart(pd.DataFrame({"n": [1]})).mark_bar().encode(x="n"))
    assert "application/vnd.jupyter.widget-view+json" not in shown[0]  # no widget state in executed.ipynb


def test_summary_stores_ids_as_pseudonyms_and_masks_emails_unless_pii(tmp_path, monkeypatch):
    # ESP exports keyed by email: an id that is an address is PII wherever it lands
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(INCLUDE_PII_ENV, raising=False)
    ids = ["ann@example.com", "SUB-7"]
    numbers = {"top_risk_ids": display.pseudonymize_ids(ids), "note": "ask bob@example.org",
               "by_segment": {"vip@example.com": 3}}
    display.write_summary(numbers, parameters={"owner": "eve@example.net"}, data_period=None,
                          fingerprint=None)
    text = (tmp_path / "summary.json").read_text()
    assert not display.EMAIL_PATTERN.search(text) and "SUB-7" not in text
    stored = json.loads(text)
    assert stored["numbers"]["top_risk_ids"] == [display.pseudonym(i) for i in ids]
    assert stored["numbers"]["note"] == "ask [email hidden]"
    monkeypatch.setenv(INCLUDE_PII_ENV, "1")
    assert display.pseudonymize_ids(ids) == ids
    display.write_summary(numbers | {"top_risk_ids": display.pseudonymize_ids(ids)}, parameters={},
                          data_period=None, fingerprint=None)
    assert json.loads((tmp_path / "summary.json").read_text())["numbers"]["top_risk_ids"] == ids
