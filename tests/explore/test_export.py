"""Export through the consent gate: planted unsubscribed, non-consented and suppressed members."""

from __future__ import annotations

import contextlib
import io
import os
import stat

import pandas as pd
import pytest

from segkit.errors import InputError, ValidationError
from segkit.explore import (
    ExplorerData,
    ExplorerState,
    SegmentExplorer,
    explore,
    export_audience,
    export_file_path,
)

from .conftest import AS_OF


def expected_reasons(planted, candidates: pd.Index) -> pd.Series:
    """Reason per candidate, computed with pandas from the raw tables ('' when eligible): the
    latest state, at any date (the planted list has no complaints, bounces or re-subscribes)."""
    candidates = pd.Index(candidates)
    subs = planted["subscribers"].set_index("subscriber_id").reindex(candidates)
    events = planted["events"]
    gone = set(events.loc[events["event_type"] == "unsubscribe", "subscriber_id"])
    unsubscribed = subs["unsubscribed_at"].notna() | candidates.isin(gone)
    suppressed = subs["email"].str.lower().isin([e.lower() for e in planted["suppressed"]])
    reasons = pd.Series("", index=candidates)
    reasons[suppressed.to_numpy()] = "suppressed"
    reasons[~subs["consent"].fillna(False).astype(bool).to_numpy()] = "no consent"
    reasons[unsubscribed.to_numpy()] = "unsubscribed"
    return reasons


def test_export_excludes_planted_subscribers(data, planted, tmp_path):
    with contextlib.redirect_stdout(io.StringIO()):
        explorer = SegmentExplorer(data, as_of=AS_OF, suppressed=planted["suppressed"])
    audience, members = [], 0
    for segment in explorer.result.rule_names:
        result = explorer.export(segment, path=tmp_path / f"{segment}.csv")
        written = pd.read_csv(tmp_path / f"{segment}.csv", dtype=str)
        assert list(written.columns) == ["subscriber_id", "email"]
        assert list(written["subscriber_id"]) == list(result.audience["subscriber_id"])
        audience += list(written["subscriber_id"])
        members += result.members
        reasons = expected_reasons(planted, result.consent.to_frame()["subscriber_id"])
        got = result.consent.to_frame().set_index("subscriber_id")["reason"]
        assert (got.reindex(reasons.index) == reasons).all()
    assert members == len(explorer.features)  # the segments cover everyone once
    groups = planted["groups"]
    planted_out = {*groups["no_consent"], *groups["unsubscribed_at"], *groups["unsubscribe_event"],
                   *groups["suppressed"], *groups["unsubscribes_later"]}
    assert not planted_out & set(audience)
    assert explorer.result.state.as_of == AS_OF  # unsubscribed after the explorer's date: still out
    assert "excluded" in explorer.message.value and "no consent" in explorer.message.value


def test_export_of_filtered_segment_reports_exclusions(data, planted):
    state = ExplorerState(as_of=AS_OF, scheme="lifecycle", consent="not_consented")
    result = explore(data, state, performance=False)
    exported = export_audience(data, result, "active")
    assert exported.members == int((result.members.astype(str) == "active").sum())
    assert len(exported.audience) == 0  # nobody without consent may be emailed
    assert exported.consent.counts["no consent"] == exported.members - exported.consent.counts["unsubscribed"]


def test_export_needs_subscribers_and_a_known_segment(features, data):
    frame = features.copy()
    frame.attrs = {"as_of": AS_OF.isoformat(), "windows": (30, 90, 365)}
    bare = ExplorerData(frame)
    result = explore(bare, ExplorerState(as_of=AS_OF), performance=False)
    with pytest.raises(InputError, match="subscribers"):
        export_audience(bare, result, "inactive")
    with pytest.raises(ValidationError, match="did you mean 'inactive'"):
        export_audience(data, explore(data, ExplorerState(as_of=AS_OF), performance=False), "inactiv")


def test_export_button_writes_the_chosen_segment(data, planted, tmp_path):
    with contextlib.redirect_stdout(io.StringIO()):
        explorer = SegmentExplorer(data, as_of=AS_OF, export_path=tmp_path / "out.csv")
    explorer.segment.value = "inactive"
    explorer.export_button.click()
    written = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert explorer.last_export.name == "engagement_inactive"
    assert list(written["subscriber_id"]) == list(explorer.last_export.audience["subscriber_id"])
    assert f"wrote {len(written):,} of {explorer.last_export.members:,} members" in explorer.message.value
    explorer.segment.value = "low"
    explorer.suppressed = ()
    data.subscribers, saved = None, data.subscribers
    try:
        explorer.export_button.click()  # the error is shown, not raised into the kernel log
    finally:
        data.subscribers = saved
    assert "needs the subscribers table" in explorer.message.value


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """A repository (a ``.git`` folder) whose ``notebooks/`` is the working directory."""
    repo = (tmp_path / "repo").resolve()
    (repo / ".git").mkdir(parents=True)
    (repo / "notebooks").mkdir()
    monkeypatch.chdir(repo / "notebooks")
    return repo


def test_export_paths_default_to_the_repositorys_exports_folder(repository, tmp_path, monkeypatch):
    assert export_file_path() == repository / "exports" / "audience.csv"
    assert export_file_path("vip.csv") == repository / "exports" / "vip.csv"
    assert export_file_path("  ") == repository / "exports" / "audience.csv"
    assert export_file_path(tmp_path / "x.csv") == tmp_path / "x.csv"  # absolute: as given
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)  # outside a repository: the working directory's exports/
    assert export_file_path() == plain.resolve() / "exports" / "audience.csv"


def test_export_button_writes_into_exports_and_says_where(data, repository):
    with contextlib.redirect_stdout(io.StringIO()):
        explorer = SegmentExplorer(data, as_of=AS_OF)
    target = repository / "exports" / "audience.csv"
    assert explorer.export_path.value == str(target)  # shown in full before anything is written
    explorer.segment.value = "inactive"
    explorer.export_button.click()
    assert target.is_file() and stat.S_IMODE(os.stat(target).st_mode) == 0o600
    message = explorer.message.value
    assert str(target) in message and "personal data (email addresses)" in message
    assert "owner only" in message
    assert list((repository / "notebooks").iterdir()) == []  # never silently beside the notebook
    explorer.export_path.value = "lapsed.csv"  # a relative name lands in exports/ too
    explorer.export_button.click()
    assert (repository / "exports" / "lapsed.csv").is_file()
