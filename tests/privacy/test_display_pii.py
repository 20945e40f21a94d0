"""Report tables show pseudonymous ids and no email addresses unless PII is included."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.reports import display
from segkit.reports.display import INCLUDE_PII_ENV, PSEUDONYM_SALT_ENV, pseudonym, table_html

FRAME = pd.DataFrame({
    "subscriber_id": ["sub-000123", "sub-000456", None],
    "email": ["ann@example.com", "bob@example.org", None],
    "note": ["wrote from ann@example.com", "ok", "x"],
    "clv": [12.5, 3.0, 1.0],
})


@pytest.fixture(autouse=True)
def no_pii(monkeypatch):
    monkeypatch.delenv(INCLUDE_PII_ENV, raising=False)
    monkeypatch.delenv(PSEUDONYM_SALT_ENV, raising=False)


def test_ids_are_pseudonymized_and_emails_masked_by_default():
    page = table_html(FRAME)
    assert "sub-000123" not in page and "sub-000456" not in page
    assert pseudonym("sub-000123") in page and pseudonym("sub-000456") in page
    assert "@example" not in page and "[email hidden]" in page
    assert "<th>email</th>" not in page and "<th>subscriber_id</th>" in page
    assert "12.50" in page
    assert FRAME["subscriber_id"].iloc[0] == "sub-000123"  # input untouched


def test_pseudonyms_are_stable_salted_and_distinct(monkeypatch):
    first = pseudonym("sub-000123")
    assert first == pseudonym("sub-000123") and first != pseudonym("sub-000124")
    assert first.startswith("p-") and len(first) == 18
    monkeypatch.setenv(PSEUDONYM_SALT_ENV, "team-salt")
    salted = pseudonym("sub-000123")
    assert salted != first and salted == pseudonym("sub-000123")
    import hashlib
    assert hashlib.sha256(b"sub-000123").hexdigest()[:16] not in salted  # not an unsalted hash


def test_index_ids_and_plain_text_are_pseudonymized_too(monkeypatch):
    shown = []
    monkeypatch.setattr(display, "_display", shown.append)
    display.show_table(FRAME.set_index("subscriber_id"), index=True)
    html, text = shown[0]["text/html"], shown[0]["text/plain"]
    for output in (html, text):
        assert "sub-000123" not in output and "ann@example.com" not in output
    assert pseudonym("sub-000123") in html and pseudonym("sub-000123") in text


def test_include_pii_shows_raw_values(monkeypatch):
    monkeypatch.setenv(INCLUDE_PII_ENV, "1")
    page = table_html(FRAME)
    assert "sub-000123" in page and "ann@example.com" in page
