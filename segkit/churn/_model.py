"""``ChurnModel``: calibrated scikit-learn churn classifiers with per-row reasons.

Two pipelines (scikit-learn ``Pipeline``):

* ``"logistic"``: median imputation with missing-value indicators, ``StandardScaler``,
  ``LogisticRegression`` (L2, C = 1);
* ``"gradient_boosting"``: unweighted quantile binning (63 bins a feature, see
  ``segkit.churn._binning``), then ``HistGradientBoostingClassifier`` (handles missing values
  natively; small trees: 15 leaves, at least 40 rows a leaf, L2 1.0; up to 300 rounds with
  early stopping on a 15% validation split).

Class imbalance is handled with ``class_weight="balanced"`` (weights n / (2 n_class)); because
re-weighting shifts the probabilities, the pipeline is wrapped in ``CalibratedClassifierCV``
(Platt's sigmoid or isotonic regression, fitted on out-of-fold predictions of a stratified
3-fold split; ``ensemble=False``, so one pipeline is fitted on all the data and explained).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from segkit.churn._align import align_labels, by_subscriber
from segkit.churn._binning import QuantileBinner
from segkit.churn._features import default_feature_columns, feature_matrix, unusable_columns
from segkit.churn._reasons import format_reasons, linear_contributions, occlusion_contributions
from segkit.errors import NotFittedError, ValidationError

__all__ = ["KINDS", "MIN_CLASS_COUNT", "RISK_BANDS", "ChurnModel"]

KINDS = ("logistic", "gradient_boosting")
CALIBRATIONS = ("sigmoid", "isotonic", None)
CLASS_WEIGHTS = ("balanced", None)
#: Fewest churners and fewest non-churners a fit accepts (calibration splits the data in folds).
MIN_CLASS_COUNT = 10
#: Bins per feature for gradient boosting (see ``segkit.churn._binning``).
HGB_BINS = 63
#: Names of the risk bands, lowest first.
RISK_BANDS = ("low", "medium", "high")


def _choice(value: Any, valid: Sequence[Any]) -> bool:
    return any(value is v or (v is not None and value == v) for v in valid)


class ChurnModel:
    """A calibrated churn classifier: ``fit(features, labels)``, ``predict_proba``, ``score``.

    Parameters
    ----------
    kind
        ``"logistic"`` (scaled logistic regression) or ``"gradient_boosting"``
        (``HistGradientBoostingClassifier``).
    calibration
        ``"sigmoid"`` (Platt 1999), ``"isotonic"`` (Zadrozny & Elkan 2002) or None (raw
        probabilities; with ``class_weight="balanced"`` they are then biased towards 0.5).
    class_weight
        ``"balanced"`` or None.
    random_state
        Seed of the calibration folds and of gradient boosting's early-stopping split.
    features
        Feature columns to use. None: every numeric/boolean column of the feature table except
        the local-time slot counts (``opens_hour_*``, ``opens_weekday_*``); constant and
        all-missing columns are then dropped and listed in ``dropped_features_``. Named columns
        that are constant or all missing raise a :class:`~segkit.errors.ValidationError`.
    risk_bands
        Probability cut points of the ``"low" | "medium" | "high"`` bands (``[0, a)``, ``[a, b)``,
        ``[b, 1]``).
    n_reasons
        Reasons listed per subscriber in :meth:`score`.
    cv
        Folds of the calibration split.
    n_threads
        OpenMP threads for fitting and predicting (gradient boosting); None leaves the library
        default (all cores). 1 by default: on a shared or busy machine OpenMP oversubscription
        made one fit 20x slower in our measurements.

    Attributes
    ----------
    estimator_ : the fitted ``CalibratedClassifierCV`` (or the ``Pipeline`` when uncalibrated)
    pipeline_ : the ``Pipeline`` fitted on all training rows (explained by ``top_reasons``)
    feature_names_in_, dropped_features_ (name -> reason), training_medians_,
    n_samples_, n_churned_, base_rate_ (training churn rate), classes_ ([0, 1]),
    reason_method_ (how ``top_reasons`` are computed)

    Notes
    -----
    ``top_reasons``: for ``"logistic"`` the largest positive contributions ``beta_j * z_ij`` to
    the log-odds (exact for a linear model); for ``"gradient_boosting"`` a SHAP-free occlusion:
    the drop in churn probability when the feature is set to its training median, one feature at
    a time. See ``segkit.churn._reasons``.
    """

    _parameter_constraints: ClassVar[dict[str, tuple]] = {
        "kind": KINDS,
        "calibration": CALIBRATIONS,
        "class_weight": CLASS_WEIGHTS,
    }

    def __init__(
        self,
        kind: str = "logistic",
        *,
        calibration: str | None = "sigmoid",
        class_weight: str | None = "balanced",
        random_state: int = 0,
        features: Sequence[str] | None = None,
        risk_bands: tuple[float, float] = (0.3, 0.6),
        n_reasons: int = 3,
        cv: int = 3,
        n_threads: int | None = 1,
    ) -> None:
        self.kind = kind
        self.calibration = calibration
        self.class_weight = class_weight
        self.random_state = random_state
        self.features = features
        self.risk_bands = risk_bands
        self.n_reasons = n_reasons
        self.cv = cv
        self.n_threads = n_threads

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        names = ("kind", "calibration", "class_weight", "random_state", "features",
                 "risk_bands", "n_reasons", "cv", "n_threads")  # fmt: skip
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> ChurnModel:
        """Set constructor parameters (scikit-learn convention); unknown names are refused."""
        valid = self.get_params()
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValidationError(
                f"unknown ChurnModel parameter(s) {unknown}; valid: {', '.join(valid)}"
            )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def _validate_params(self) -> None:
        for name, valid in self._parameter_constraints.items():
            value = getattr(self, name)
            if not _choice(value, valid):
                raise ValidationError(
                    f"ChurnModel({name}={value!r}) is invalid; valid: {', '.join(map(repr, valid))}"
                )
        if self.n_threads is not None and (
            isinstance(self.n_threads, bool)
            or not isinstance(self.n_threads, int | np.integer)
            or self.n_threads < 1
        ):
            raise ValidationError(
                f"ChurnModel(n_threads={self.n_threads!r}) is invalid: need None or an integer >= 1"
            )
        for name, low in (("random_state", 0), ("n_reasons", 0), ("cv", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise ValidationError(
                    f"ChurnModel({name}={value!r}) is invalid: need an integer >= {low}"
                )
        bands = self.risk_bands
        if (
            not isinstance(bands, tuple | list)
            or len(bands) != 2
            or not 0 < float(bands[0]) < float(bands[1]) < 1
        ):
            raise ValidationError(
                f"ChurnModel(risk_bands={bands!r}) is invalid: need two probabilities 0 < a < b < 1"
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"ChurnModel({args})"

    # ------------------------------------------------------------------ fitting
    def _pipeline(self) -> Pipeline:
        if self.kind == "logistic":
            return Pipeline([
                ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(class_weight=self.class_weight, max_iter=2000)),
            ])  # fmt: skip
        return Pipeline([
            ("bin", QuantileBinner(n_bins=HGB_BINS)),
            ("model", HistGradientBoostingClassifier(
                max_bins=HGB_BINS, max_iter=300, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
                early_stopping=True, validation_fraction=0.15, n_iter_no_change=10,
                class_weight=self.class_weight, random_state=self.random_state)),
        ])  # fmt: skip

    def _select_columns(self, table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
        explicit = self.features is not None
        if explicit:
            if isinstance(self.features, str):
                raise ValidationError(
                    f"ChurnModel(features={self.features!r}) must be a list of column names"
                )
            columns = list(dict.fromkeys(map(str, self.features)))
        else:
            columns = default_feature_columns(table)
        matrix = feature_matrix(table, columns)
        all_missing, constant = unusable_columns(matrix)
        if explicit and (all_missing or constant):
            parts = []
            if all_missing:
                parts.append(f"all missing: {', '.join(all_missing)}")
            if constant:
                parts.append(f"constant: {', '.join(constant)}")
            raise ValidationError(
                f"feature column(s) carry no information in the training rows ({'; '.join(parts)}); "
                "drop them from ChurnModel(features=...)"
            )
        dropped = {c: "all missing" for c in all_missing} | {c: "constant" for c in constant}
        kept = [c for c in columns if c not in dropped]
        if not kept:
            raise ValidationError(
                f"no usable feature columns: every candidate is constant or all missing ({', '.join(dropped)})"
            )
        return matrix[kept], dropped

    @staticmethod
    def _check_classes(y: np.ndarray) -> None:
        churned, stayed = int(y.sum()), int(len(y) - y.sum())
        for count, what in (
            (churned, "churners (positives)"),
            (stayed, "non-churners (negatives)"),
        ):
            if count < MIN_CLASS_COUNT:
                raise ValidationError(
                    f"too few {what} to fit: {count} of {len(y)} labelled subscribers; need at "
                    f"least {MIN_CLASS_COUNT} of each class (try a longer horizon, a wider "
                    "lookback or more data)"
                )

    def fit(self, features: pd.DataFrame, labels: Any) -> ChurnModel:
        """Fit on the labelled subscribers.

        Parameters
        ----------
        features
            The feature table (:func:`segkit.churn.churn_features` / :func:`segkit.features.compute`
            at the labels' ``as_of``), indexed by ``subscriber_id``.
        labels
            :func:`segkit.churn.churn_labels` output (rows with a missing ``churned`` are skipped)
            or a boolean Series indexed by ``subscriber_id``.
        """
        self._validate_params()
        table, y = align_labels(features, labels)
        matrix, dropped = self._select_columns(table)
        self._check_classes(y)
        with self._threads():
            self._fit_estimator(matrix, y)
        self.feature_names_in_ = np.array(matrix.columns, dtype=object)
        self.dropped_features_ = dropped
        self.training_medians_ = matrix.median(skipna=True)
        self.n_samples_ = len(y)
        self.n_churned_ = int(y.sum())
        self.base_rate_ = float(y.mean())
        self.classes_ = np.array([0, 1])
        self.reason_method_ = (
            "largest positive beta_j * z_ij log-odds contributions (standardized logistic)"
            if self.kind == "logistic"
            else "occlusion: drop in churn probability when the feature is set to its training median"
        )
        return self

    def _threads(self) -> threadpool_limits | nullcontext:
        if self.n_threads is None:
            return nullcontext()
        return threadpool_limits(limits=int(self.n_threads))

    def _fit_estimator(self, matrix: pd.DataFrame, y: np.ndarray) -> None:
        pipeline = self._pipeline()
        if self.calibration is None:
            estimator = pipeline.fit(matrix, y)
            fitted = estimator
        else:
            folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
            estimator = CalibratedClassifierCV(
                pipeline, method=self.calibration, cv=folds, ensemble=False
            ).fit(matrix, y)
            fitted = estimator.calibrated_classifiers_[0].estimator
        self.estimator_ = estimator
        self.pipeline_ = fitted

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise NotFittedError(
                "This ChurnModel instance is not fitted yet. Call 'fit' with features and labels first."
            )

    def _matrix(self, features: pd.DataFrame) -> pd.DataFrame:
        self._check_fitted()
        table = by_subscriber(features, "features")
        return feature_matrix(table, list(self.feature_names_in_))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Probabilities ``[[P(stay), P(churn)], ...]`` for every row of ``features``."""
        matrix = self._matrix(features)
        with self._threads():
            return self.estimator_.predict_proba(matrix)

    def predict(self, features: pd.DataFrame, threshold: float = 0.5) -> np.ndarray:
        """1 where the churn probability is at least ``threshold``."""
        return (self.predict_proba(features)[:, 1] >= threshold).astype(int)

    def _reasons(self, matrix: pd.DataFrame) -> list[str]:
        if self.n_reasons == 0:
            return [""] * len(matrix)
        if self.kind == "logistic":
            contributions, names, directions = linear_contributions(self.pipeline_, matrix)
        else:
            contributions, names, directions = occlusion_contributions(
                lambda m: self.estimator_.predict_proba(m)[:, 1], matrix, self.training_medians_
            )
        return format_reasons(contributions, names, directions, self.n_reasons)

    def risk_band(self, probability: np.ndarray) -> pd.Categorical:
        """``"low" | "medium" | "high"`` from the ``risk_bands`` cut points."""
        codes = np.searchsorted(np.asarray(self.risk_bands, float), probability, side="right")
        return pd.Categorical.from_codes(codes, categories=list(RISK_BANDS), ordered=True)

    def score(self, features: pd.DataFrame) -> pd.DataFrame:
        """Churn probability, risk band and top reasons per subscriber, highest risk first.

        Returns
        -------
        pandas.DataFrame
            ``subscriber_id``, ``churn_probability``, ``risk_band`` (ordered categorical),
            ``top_reasons`` (see the class Notes; ``attrs["reason_method"]`` says which).
        """
        matrix = self._matrix(features)
        with self._threads():
            probability = self.estimator_.predict_proba(matrix)[:, 1]
            reasons = self._reasons(matrix)
        frame = pd.DataFrame(
            {
                "subscriber_id": pd.Series(matrix.index.astype(str), dtype="str"),
                "churn_probability": probability,
                "risk_band": self.risk_band(probability),
                "top_reasons": reasons,
            }
        )
        order = np.lexsort((frame["subscriber_id"].to_numpy(), -probability))
        frame = frame.iloc[order].reset_index(drop=True)
        frame.attrs.update(reason_method=self.reason_method_, kind=self.kind)
        return frame

    def _repr_html_(self) -> str:
        if not hasattr(self, "estimator_"):
            return f"<p>{html.escape(repr(self))} (not fitted)</p>"
        return (
            f"<p><b>ChurnModel</b> ({html.escape(self.kind)}, calibration "
            f"{html.escape(str(self.calibration))}): {self.n_samples_:,} training subscribers, "
            f"{self.n_churned_:,} churned ({self.base_rate_:.1%}); {len(self.feature_names_in_)} "
            f"features ({len(self.dropped_features_)} dropped as constant/all missing).</p>"
        )
