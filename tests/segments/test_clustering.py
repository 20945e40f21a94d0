"""Clustering recovers the planted personas (adjusted Rand index) and is seed-stable."""

from __future__ import annotations

import numpy as np
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


def test_gmm_recovers_personas_and_is_seed_stable(synthetic_data, synthetic_features) -> None:
    clusterer = SegmentClusterer(5, method="gmm", random_state=0).fit(synthetic_features)
    persona = synthetic_data.truth.subscribers["persona"].reindex(synthetic_features.index)
    ari = adjusted_rand_score(persona, clusterer.labels_)
    assert ari >= 0.7, f"ARI {ari:.3f}"
    again = SegmentClusterer(5, method="gmm", random_state=0).fit(synthetic_features)
    assert (again.labels_ == clusterer.labels_).all()
    probabilities = clusterer.probabilities_
    assert probabilities.shape == (len(synthetic_features), 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities.to_numpy().argmax(axis=1) == clusterer.labels_.to_numpy()).all()
    assert clusterer.profiles_[("size", "subscribers")].sum() == len(synthetic_features)
    assert clusterer.names_.str.contains("high|low|recent|long ago").all()
    assert "Gaussian mixture (full covariance), k=5" in clusterer.summary()
    assert "fixed k" in clusterer.summary()


@pytest.mark.parametrize("selection", ["bic", "silhouette"])
def test_gmm_k_selection(synthetic_features, selection) -> None:
    sample = synthetic_features.iloc[:300]
    clusterer = SegmentClusterer(k_range=(3, 4), method="gmm", selection=selection).fit(sample)
    assert list(clusterer.bic_scores_.index) == list(clusterer.silhouette_scores_.index) == [3, 4]
    if selection == "bic":
        assert clusterer.k_ == clusterer.bic_scores_.idxmin()
    else:
        assert clusterer.k_ == clusterer.silhouette_scores_.idxmax()
    assert f"best {selection}" in clusterer.summary()


def test_method_errors(synthetic_features) -> None:
    sample = synthetic_features.iloc[:100]
    with pytest.raises(ValidationError, match="unknown method 'dbscan'; valid: kmeans, gmm"):
        SegmentClusterer(method="dbscan").fit(sample)
    with pytest.raises(ValidationError, match="'bic' is not available for method 'kmeans'"):
        SegmentClusterer(selection="bic").fit(sample)
    with pytest.raises(ValidationError, match="covariance_type 'ful'; valid: full"):
        SegmentClusterer(3, method="gmm", covariance_type="ful").fit(sample)
    kmeans = SegmentClusterer(3).fit(sample)
    assert kmeans.bic_scores_ is None and kmeans.probabilities_ is None


@pytest.mark.slow
def test_ari_on_default_generator() -> None:
    from segkit.datasets import synthetic
    from segkit.features import compute

    data = synthetic(n_subscribers=20_000, seed=0)
    events = data.events.assign(machine_open=data.events["event_id"].isin(data.truth.machine_open_event_ids))
    features = compute({"events": events, "subscribers": data.subscribers}, data.truth.end)
    persona = data.truth.subscribers["persona"].reindex(features.index)
    for method in ("kmeans", "gmm"):
        labels = SegmentClusterer(5, method=method).fit(features).labels_
        assert adjusted_rand_score(persona, labels) >= 0.7, method
        assert isinstance(labels, pd.Series)
