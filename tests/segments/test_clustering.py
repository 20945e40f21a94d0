"""Clustering recovers the planted personas (adjusted Rand index) and is seed-stable."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segkit.errors import NotFittedError, ValidationError
from segkit.segments import SegmentClusterer


def test_kmeans_recovers_personas(synthetic_data, synthetic_features) -> None:
    clusterer = SegmentClusterer(5, random_state=0).fit(synthetic_features)
    persona = synthetic_data.truth.subscribers["persona"].reindex(synthetic_features.index)
    ari = adjusted_rand_score(persona, clusterer.labels_)
    assert ari >= 0.7, f"ARI {ari:.3f}"
    again = SegmentClusterer(5, random_state=0).fit(synthetic_features)
    assert (again.labels_ == clusterer.labels_).all()
    profiles = clusterer.profiles_
    assert profiles[("size", "subscribers")].sum() == len(synthetic_features)
    # z-scores of the cluster means, weighted by size, average to zero
    weighted = (profiles["z"].mul(profiles[("size", "subscribers")], axis=0)).sum() / len(synthetic_features)
    assert weighted.abs().max() < 1e-9
    assert clusterer.names_.str.contains("high|low|recent|long ago").all()
    assert "k=5" in clusterer.summary()


def test_k_by_silhouette_and_errors(synthetic_features) -> None:
    sample = synthetic_features.iloc[:400]
    clusterer = SegmentClusterer(k_range=(2, 4)).fit(sample)
    assert clusterer.k_ == clusterer.silhouette_scores_.idxmax()
    assert list(clusterer.silhouette_scores_.index) == [2, 3, 4]
    with pytest.raises(NotFittedError):
        SegmentClusterer().summary()
    with pytest.raises(ValidationError, match="clustering needs feature column"):
        SegmentClusterer(features=["nope"]).fit(sample)


@pytest.mark.slow
def test_ari_on_default_generator() -> None:
    from segkit.datasets import synthetic
    from segkit.features import compute

    data = synthetic(n_subscribers=20_000, seed=0)
    events = data.events.assign(machine_open=data.events["event_id"].isin(data.truth.machine_open_event_ids))
    features = compute({"events": events, "subscribers": data.subscribers}, data.truth.end)
    labels = SegmentClusterer(5).fit(features).labels_
    persona = data.truth.subscribers["persona"].reindex(features.index)
    assert adjusted_rand_score(persona, labels) >= 0.7
    assert isinstance(labels, pd.Series)
