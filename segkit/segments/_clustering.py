"""Behavioural clusters: KMeans on scaled features, k by silhouette, profiles and names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from segkit.errors import NotFittedError, ValidationError

__all__ = ["CLUSTER_FEATURES", "SegmentClusterer"]

#: Default clustering inputs (per-send rates and 365-day activity counts).
CLUSTER_FEATURES: tuple[str, ...] = (
    "open_rate_365d",
    "click_rate_365d",
    "purchase_count_365d",
    "web_visits_365d",
    "tenure_days",
    "days_since_last_open",
)


class SegmentClusterer:
    """KMeans clusters of subscribers with k chosen by silhouette, profiled and named.

    Parameters
    ----------
    n_clusters
        A fixed k, or None to choose k in ``k_range`` by the highest silhouette score
        (Rousseeuw 1987), computed on a seeded sample of ``silhouette_sample`` rows.
    k_range
        Inclusive (low, high) range searched when ``n_clusters`` is None.
    features
        Feature columns to cluster on (default :data:`CLUSTER_FEATURES`). Missing values are
        filled before scaling: rates with 0, ``days_since_*`` with 400 (beyond a year), counts
        with 0. Everything except rates is log1p-transformed (skewed counts and durations), then
        standardised.
    random_state
        Seed for KMeans (``n_init=10``) and the silhouette sample: fits are reproducible.

    Attributes
    ----------
    labels_, k_, silhouette_scores_ (by k), profiles_ (per-cluster means, sizes and z-scores of
    the means vs the whole list), names_ (descriptive cluster names), model_ (the KMeans).
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        *,
        k_range: tuple[int, int] = (2, 8),
        features: Sequence[str] = CLUSTER_FEATURES,
        random_state: int = 0,
        silhouette_sample: int = 5000,
    ) -> None:
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.features = features
        self.random_state = random_state
        self.silhouette_sample = silhouette_sample

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        missing = sorted(set(self.features) - set(frame.columns))
        if missing:
            raise ValidationError(f"clustering needs feature column(s) {', '.join(missing)}")
        columns = []
        for name in self.features:
            values = frame[name].to_numpy(dtype=float, na_value=np.nan)
            if name.startswith("days_since"):
                values = np.log1p(np.nan_to_num(values, nan=400.0).clip(min=0))
            elif "rate" in name:
                values = np.nan_to_num(values, nan=0.0)
            else:
                values = np.log1p(np.nan_to_num(values, nan=0.0).clip(min=0))
            columns.append(values)
        return np.column_stack(columns)

    def fit(self, features: pd.DataFrame) -> SegmentClusterer:
        """Scale, choose k, fit KMeans, and profile and name the clusters."""
        low, high = self.k_range
        if self.n_clusters is None and not 2 <= low <= high:
            raise ValidationError(f"k_range must satisfy 2 <= low <= high; got {self.k_range}")
        matrix = StandardScaler().fit_transform(self._matrix(features))
        candidates = [self.n_clusters] if self.n_clusters is not None else range(low, high + 1)
        if max(candidates) >= len(features):
            raise ValidationError(f"{len(features)} subscribers are too few for k={max(candidates)}")
        rng = np.random.default_rng(self.random_state)
        sample = rng.choice(len(matrix), min(self.silhouette_sample, len(matrix)), replace=False)
        models, scores = {}, {}
        for k in candidates:
            models[k] = KMeans(k, n_init=10, random_state=self.random_state).fit(matrix)
            scores[k] = float(silhouette_score(matrix[sample], models[k].labels_[sample]))
        self.k_ = max(scores, key=scores.get) if self.n_clusters is None else self.n_clusters
        self.model_ = models[self.k_]
        self.silhouette_scores_ = pd.Series(scores, name="silhouette").rename_axis("k")
        self.labels_ = pd.Series(self.model_.labels_, index=features.index, name="cluster")
        self.profiles_ = self._profile(features)
        self.names_ = self._names()
        return self

    def _profile(self, features: pd.DataFrame) -> pd.DataFrame:
        values = pd.DataFrame(self._matrix(features), index=features.index, columns=list(self.features))
        means = values.groupby(self.labels_.to_numpy()).mean()
        z = (means - values.mean()) / values.std(ddof=0).replace(0, np.nan)
        sizes = self.labels_.value_counts().sort_index()
        profile = pd.concat({"mean": means, "z": z}, axis=1)
        profile[("size", "subscribers")] = sizes
        return profile.rename_axis("cluster")

    def _names(self) -> pd.Series:
        """Two strongest deviations per cluster, e.g. "high open rate, recent opens"."""
        z = self.profiles_["z"].fillna(0.0)
        names = {}
        for cluster, row in z.iterrows():
            top = row.abs().sort_values(ascending=False).index[:2]
            names[cluster] = ", ".join(_describe(feature, row[feature]) for feature in top)
        return pd.Series(names, name="name").rename_axis("cluster")

    def summary(self) -> str:
        """k, its silhouette, and each cluster's size and name."""
        if not hasattr(self, "model_"):
            raise NotFittedError("SegmentClusterer is not fitted yet; call fit(features) first")
        sizes = self.profiles_[("size", "subscribers")]
        lines = [f"KMeans, k={self.k_} (silhouette {self.silhouette_scores_[self.k_]:.3f}; "
                 f"method: {'fixed k' if self.n_clusters else 'best silhouette'})"]
        lines += [f"  cluster {c}: {sizes[c]:,} subscribers, {self.names_[c]}" for c in self.names_.index]
        return "\n".join(lines)


def _describe(feature: str, z: float) -> str:
    if feature.startswith("days_since"):
        what = feature.removeprefix("days_since_last_").replace("_", " ")
        return f"{'long ago' if z > 0 else 'recent'} {what}"
    label = feature.replace("_365d", "").replace("_", " ")
    return f"{'high' if z > 0 else 'low'} {label}"
