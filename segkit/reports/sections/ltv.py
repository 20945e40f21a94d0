"""The numbers behind the lifetime-value and churn report (``notebooks/ltv_churn.ipynb``).

Each function composes :mod:`segkit.clv` into what a report section shows, with a
data-sufficiency verdict in plain words:

* :func:`clv_customers`: the RFM rows the models see (customers with a purchase before the cutoff);
* :func:`fit_models`: BG/NBD, Pareto/NBD (optional) and Gamma-Gamma fitted
  on the calibration period, each with its parameter table or the reason it failed;
* :func:`validation_table`: calibration-vs-holdout check of each transaction model
  (:func:`segkit.clv.calibration_vs_holdout`) and a verdict;
* :func:`customer_value`: each customer's CLV, with intervals when the models' parameter
  covariance allows them and point values with a plain note when it does not;
* :func:`clv_deciles`: customers in CLV deciles with the mean CLV and mean interval bounds;
* :func:`attach_clv`: a CLV column for any table of subscribers (ids matched as text);

The models are fitted once, on the calibration period, so that the parameters the report uses
are exactly the ones validated on the holdout; CLV then applies them to each customer's whole
history up to ``as_of`` (Fader, Hardie & Lee 2005, section 4).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segkit.churn import ChurnBacktest, ChurnModel, churn_features, churn_labels
from segkit.clv import (
    BetaGeo,
    CalibrationHoldoutResult,
    CLVIntervals,
    GammaGamma,
    ParetoNBD,
    assess_data_sufficiency,
    calibration_vs_holdout,
    clv_intervals,
    customer_lifetime_value,
)
from segkit.errors import ConvergenceError, SegkitError, ValidationError
from segkit.reports.sections.period import Sufficiency

__all__ = [
    "CustomerValue",
    "FittedModels",
    "MIN_HOLDOUT_PURCHASES",
    "attach_clv",
    "clv_customers",
    "clv_deciles",
    "customer_value",
    "fit_models",
    "key_numbers",
    "score_current",
    "validation_table",
    "validation_verdict",
]

#: Holdout purchase days needed before a forecast error is worth quoting.
MIN_HOLDOUT_PURCHASES = 30
RFM = ["frequency", "recency", "T", "monetary_value"]


def clv_customers(rfm: pd.DataFrame) -> pd.DataFrame:
    """Customers the CLV models can use: a purchase day strictly before the cutoff day (``T > 0``);
    a missing ``monetary_value`` (no repeat purchase) becomes 0, as Gamma-Gamma ignores it."""
    missing = sorted(set(RFM) - set(rfm.columns))
    if missing:
        raise ValidationError(f"CLV needs RFM column(s) {', '.join(missing)}; got {', '.join(rfm.columns)}")
    frame = rfm[RFM].astype(float)
    frame = frame[frame["frequency"].notna() & (frame["T"] > 0)]
    return frame.assign(monetary_value=frame["monetary_value"].fillna(0.0))


@dataclass
class FittedModels:
    """The calibration fits: models by name, parameter tables, failures and warnings."""

    transaction: dict[str, Any] = field(default_factory=dict)
    spend: GammaGamma | None = None
    parameters: pd.DataFrame = field(default_factory=pd.DataFrame)
    failures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    verdict: Sufficiency = field(default_factory=lambda: Sufficiency(False, "not fitted"))


def _fit(name: str, build: Any, out: FittedModels) -> Any:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = build()
        except (ValidationError, ConvergenceError) as error:
            out.failures[name] = str(error)
            return None
    prefix = f"{type(model).__name__}: "  # the models' warnings name their class
    out.notes.extend(f"{name}: {str(w.message).removeprefix(prefix)}" for w in caught
                     if issubclass(w.category, UserWarning))
    table = model.summary().reset_index()
    table.insert(0, "model", name)
    out.parameters = pd.concat([out.parameters, table], ignore_index=True)
    return model


def fit_models(customers: pd.DataFrame, *, pareto_nbd: bool = True, time_unit: str = "D") -> FittedModels:
    """Fit BG/NBD, Pareto/NBD (when ``pareto_nbd``) and Gamma-Gamma on calibration customers.

    Gamma-Gamma uses repeat buyers with positive spend only (Fader, Hardie & Lee 2005b). A model
    that fails to converge is listed in ``failures`` with the optimiser's message; warnings
    (thin data, parameters on a bound, singular Hessian) are kept in ``notes``.
    """
    out = FittedModels()
    x, tx, age = customers["frequency"], customers["recency"], customers["T"]
    try:
        verdict = assess_data_sufficiency(x, tx, age, time_unit=time_unit)
    except ValidationError as error:  # no rows, or nobody bought twice: nothing to fit, say why
        out.verdict = Sufficiency(False, f"{len(customers):,} customers bought before the cutoff and {error}.")
        out.failures.update({name: str(error) for name in ("BG/NBD", "Pareto/NBD", "Gamma-Gamma")
                             if name != "Pareto/NBD" or pareto_nbd})
        return out
    out.verdict = Sufficiency(verdict.sufficient, verdict.message)
    out.transaction["BG/NBD"] = _fit("BG/NBD", lambda: BetaGeo().fit(x, tx, age, time_unit=time_unit), out)
    if pareto_nbd:
        out.transaction["Pareto/NBD"] = _fit(
            "Pareto/NBD", lambda: ParetoNBD().fit(x, tx, age, time_unit=time_unit), out)
    out.transaction = {k: v for k, v in out.transaction.items() if v is not None}
    if not out.transaction:  # the card above the parameters must not say "sufficient" then
        out.verdict = Sufficiency(False, "no repeat-purchase model could be fitted: "
                                  + "; ".join(f"{k}: {v}" for k, v in out.failures.items()))
    repeat = customers[(customers["frequency"] > 0) & (customers["monetary_value"] > 0)]
    if len(repeat) >= 2:
        out.spend = _fit("Gamma-Gamma", lambda: GammaGamma().fit(repeat["frequency"],
                                                                 repeat["monetary_value"]), out)
    else:
        out.failures["Gamma-Gamma"] = f"only {len(repeat)} repeat buyer(s) with spend; need at least 2"
    return out


def validation_table(
    fitted: FittedModels, customers: pd.DataFrame, holdout_purchases: pd.Series, holdout_length: float
) -> tuple[pd.DataFrame, dict[str, CalibrationHoldoutResult]]:
    """Each transaction model's holdout forecast against what happened.

    ``holdout_purchases`` is indexed by subscriber (missing customers made none). Columns:
    ``model, customers, actual, predicted, relative_error, mae, correlation, calibration_rate,
    holdout_rate`` (purchases per customer-week); ``attrs["period_notes"]``: each model's
    :attr:`~segkit.clv.CalibrationHoldoutResult.period_note` (season or trend differences,
    dated by ``customers.attrs["as_of"]``, the cutoff).
    """
    actual = holdout_purchases.reindex(customers.index).fillna(0.0).astype(float)
    results, rows = {}, []
    for name, model in fitted.transaction.items():
        result = calibration_vs_holdout(model, customers["frequency"], customers["recency"],
                                        customers["T"], actual, holdout_length,
                                        cutoff=customers.attrs.get("as_of") if model.time_unit_ else None)
        results[name] = result
        rows.append({"model": name, "customers": len(customers), "actual": result.total_actual,
                     "predicted": result.total_predicted, "relative_error": result.relative_error,
                     "mae": result.mae, "correlation": result.correlation,
                     "calibration_rate": result.calibration_rate, "holdout_rate": result.holdout_rate})
    table = pd.DataFrame(rows)
    table.attrs["period_notes"] = {name: result.period_note for name, result in results.items()}
    return table, results


def validation_verdict(table: pd.DataFrame, fitted: FittedModels) -> Sufficiency:
    """Sufficient when the data pass :func:`segkit.clv.assess_data_sufficiency` and the holdout has
    at least :data:`MIN_HOLDOUT_PURCHASES` purchase days to compare with."""
    if table.empty and not fitted.verdict.sufficient:
        return fitted.verdict  # the reason the models were not fitted (thin or too short data)
    if table.empty:
        return Sufficiency(False, "no transaction model could be fitted: "
                                  + "; ".join(f"{k}: {v}" for k, v in fitted.failures.items()))
    if not fitted.verdict.sufficient:
        return fitted.verdict
    actual = float(table["actual"].iloc[0])
    if actual < MIN_HOLDOUT_PURCHASES:
        return Sufficiency(False, f"only {actual:.0f} purchase days in the holdout: too few to judge "
                                  "the forecast; use a longer holdout.")
    finite = table[np.isfinite(table["predicted"].astype(float))]
    if finite.empty:
        return Sufficiency(False, (
            "the models' holdout forecasts are not finite numbers (parameter estimates at extreme "
            "values: " + ", ".join(fitted.parameters["model"] + " " + fitted.parameters["parameter"] + " = "
                                   + fitted.parameters["estimate"].map("{:.3g}".format)) + "); "
            "the data cannot pin the models down."))
    best = finite.loc[finite["relative_error"].abs().idxmin()]
    note = table.attrs.get("period_notes", {}).get(best["model"], "")
    note = f" {note}" if note else ""
    return Sufficiency(True, (
        f"{fitted.verdict.message} Over the holdout, {best['model']} forecast {best['predicted']:,.0f} "
        f"purchase days against {actual:,.0f} observed ({best['relative_error']:+.1%}).{note}"))


@dataclass(frozen=True)
class CustomerValue:
    """Each customer's expected lifetime value (:func:`customer_value`).

    ``values``: one row per customer (index ``subscriber_id``): ``clv`` and the interval bounds
    ``lower``/``upper`` (NaN when no intervals could be drawn). ``intervals`` is the
    :class:`segkit.clv.CLVIntervals` when they could; otherwise ``note`` says why not, in plain
    words, and only point values are given.
    """

    values: pd.DataFrame
    intervals: CLVIntervals | None
    method: str
    note: str | None = None

    @property
    def total(self) -> float:
        return float(self.values["clv"].sum())

    def to_frame(self) -> pd.DataFrame:
        return self.values.copy()

    def summary(self) -> str:
        if self.intervals is not None:
            return self.intervals.summary()
        return f"Point CLV of {len(self.values):,} customers: total {self.total:,.2f}. {self.note or ''}".strip()

    def _repr_html_(self) -> str:
        import html

        return f"<p>{html.escape(self.summary())}</p>"


def customer_value(
    fitted: FittedModels,
    customers: pd.DataFrame,
    *,
    months: int,
    discount_rate: float,
    n_draws: int = 100,
    random_state: int = 0,
    model: str = "BG/NBD",
) -> CustomerValue:
    """CLV of ``customers`` (RFM rows as of the report date) from the calibration fits.

    Intervals come from :func:`segkit.clv.clv_intervals`. When they cannot be drawn (a model
    without a usable parameter covariance, e.g. BG/NBD's dropout not identified: a -> 0 and
    b -> infinity on Online Retail), the point CLV of :func:`segkit.clv.customer_lifetime_value`
    is still returned, with ``note`` saying why the intervals are missing.

    Raises
    ------
    ValidationError
        ``model`` or the Gamma-Gamma spend model was not fitted.
    """
    transaction = fitted.transaction.get(model)
    if transaction is None or fitted.spend is None:
        missing = [name for name, ok in ((model, transaction is not None), ("Gamma-Gamma", fitted.spend is not None))
                   if not ok]
        raise ValidationError(f"no lifetime value without {' and '.join(missing)}: "
                              + "; ".join(f"{k}: {v}" for k, v in fitted.failures.items() if k in missing))
    rfm = [customers[c] for c in RFM]
    try:
        intervals = clv_intervals(transaction, fitted.spend, *rfm, periods=months, discount_rate=discount_rate,
                                  n_draws=n_draws, random_state=random_state)
    except SegkitError as error:
        point = customer_lifetime_value(transaction, fitted.spend, *rfm, periods=months,
                                        discount_rate=discount_rate)
        values = pd.DataFrame({"clv": np.asarray(point, dtype=float), "lower": np.nan, "upper": np.nan},
                              index=customers.index)
        note = (f"Intervals cannot be computed ({error}); the values shown are point estimates "
                "at the fitted parameters, without a statement of their uncertainty.")
        method = f"{model} + Gamma-Gamma CLV at the maximum-likelihood estimates (point values only)"
        return CustomerValue(values, None, method, note)
    values = intervals.to_frame().set_axis(customers.index)
    return CustomerValue(values, intervals, intervals.method)


def attach_clv(table: pd.DataFrame, value: CustomerValue | None) -> pd.DataFrame:
    """``table`` with a ``clv`` column looked up by ``subscriber_id`` (matched as text, so an
    integer-looking id column meets string ids); NaN for subscribers without a value, or for
    everyone when ``value`` is None."""
    ids = table["subscriber_id"].astype(str)
    if value is None:
        return table.assign(clv=np.full(len(table), np.nan))
    clv = value.values["clv"].set_axis(value.values.index.astype(str))
    return table.assign(clv=ids.map(clv).to_numpy(dtype=float))


def clv_deciles(values: CustomerValue | CLVIntervals | pd.DataFrame) -> pd.DataFrame:
    """Customers in ten groups by CLV (decile 10 = most valuable): customers, mean CLV with the
    mean of the per-customer interval bounds (NaN without intervals), and each group's share of
    total CLV."""
    frame = values if isinstance(values, pd.DataFrame) else values.to_frame()
    frame = frame[["clv", "lower", "upper"]].astype(float).reset_index(drop=True)
    ranks = frame["clv"].rank(method="first")
    frame["decile"] = np.ceil(ranks * 10 / len(frame)).astype(int).clip(1, 10)
    table = frame.groupby("decile").agg(customers=("clv", "size"), clv_mean=("clv", "mean"),
                                        lower_mean=("lower", "mean"), upper_mean=("upper", "mean"),
                                        clv_total=("clv", "sum")).reset_index()
    table["share_of_clv"] = table["clv_total"] / table["clv_total"].sum()
    return table


#: Feature columns that say how long ago a subscriber last engaged (human open, click, purchase).
ENGAGEMENT_RECENCY = ("days_since_last_open", "days_since_last_click", "days_since_last_purchase")


def score_current(
    result: ChurnBacktest,
    events: pd.DataFrame,
    subscribers: pd.DataFrame | None,
    as_of: pd.Timestamp,
    *,
    windows: Any,
) -> pd.DataFrame:
    """Churn scores as of ``as_of`` with the validated design, one step later.

    The backtest trained at its first cutoff and was judged one horizon later; here the winning
    kind (same settings) is refitted at ``as_of - horizon`` (the latest cutoff whose labels are
    complete) and scores the features as of ``as_of``, so the gap between training and scoring is
    the one the backtest validated. Only subscribers engaged (human open, click or purchase) in
    the ``lookback_days`` before ``as_of`` are scored: the population the labels are defined on.
    Returns :meth:`segkit.churn.ChurnModel.score` rows, riskiest first.
    """
    cutoff = (as_of - pd.Timedelta(days=result.horizon_days)).floor("D")
    train = churn_features(events, cutoff, subscribers=subscribers, windows=windows)
    labels = churn_labels(events, cutoff, horizon_days=result.horizon_days,
                          lookback_days=result.lookback_days, event_types=result.event_types)
    model = ChurnModel(**result.model.get_params()).fit(train, labels)
    current = churn_features(events, as_of, subscribers=subscribers, windows=windows)
    recency = [c for c in ENGAGEMENT_RECENCY if c in current.columns]
    if not recency:
        raise ValidationError(f"churn features lack every engagement recency column ({', '.join(ENGAGEMENT_RECENCY)})")
    engaged = current[recency].min(axis=1) <= result.lookback_days
    scores = model.score(current[engaged.to_numpy()])
    scores.attrs.update(train_cutoff=cutoff.isoformat(), kind=model.kind)
    return scores


def key_numbers(
    fitted: FittedModels,
    validation: pd.DataFrame,
    value: CustomerValue | None,
    *,
    customers: int,
) -> dict[str, Any]:
    """The ``summary.json`` numbers: parameters, holdout check, CLV totals (the interval of the
    total only when intervals could be drawn; ``clv_intervals_note`` says why not)."""
    params = {f"{r.model}/{r.parameter}": r.estimate for r in fitted.parameters.itertuples()}
    numbers: dict[str, Any] = {
        "customers": int(customers),
        "data_sufficient": fitted.verdict.sufficient,
        "parameters": params,
        "failures": dict(fitted.failures),
        "validation": validation.to_dict(orient="records"),
    }
    if value is not None:
        numbers.update(clv_total=value.total, clv_mean=float(value.values["clv"].mean()),
                       clv_intervals=value.intervals is not None)
        if value.intervals is not None:
            numbers.update(clv_total_lower=value.intervals.total_lower, clv_total_upper=value.intervals.total_upper,
                           clv_periods=value.intervals.periods, clv_discount_rate=value.intervals.discount_rate)
        else:
            numbers["clv_intervals_note"] = value.note
    return numbers
