"""Per-subscriber weekly caps: an empirical-Bayes change point in each subscriber's open rate.

For subscriber ``i`` with ``n_v`` sends (``k_v`` human opens) at 7-day volume ``v`` (clipped at
:data:`~segkit.sendtime._fatigue.MAX_WEEKLY_BIN`), the models are

* ``none``: one open rate ``p ~ Beta(a, b)`` for every send;
* ``step at c`` (``c = 1 .. MAX_WEEKLY_BIN - 1``): ``p_low`` for sends with ``v <= c`` and
  ``p_high`` for ``v > c``, independently ``Beta(a, b)``, kept only when the posterior means
  show a fall (``E[p_high] < E[p_low]``).

Each model's marginal likelihood is closed form (beta-binomial, Bernoulli-sequence form):
``log m(k, n) = log B(a + k, b + n - k) - log B(a, b)``. ``Beta(a, b)`` is the segment's
distribution of subscriber open rates, fitted by the method of moments over the segment's
subscribers with at least ``min_sends_per_side`` sends (empirical Bayes; the prior strength
``a + b`` is the number of pseudo-sends, so a bin's own rate gets shrinkage weight
``n / (n + a + b)``). The model prior puts ``prior_weight`` on the segment's cap (``none`` when
the segment shows no fatigue) and spreads the rest evenly, so the answer is shrunk toward the
segment and a subscriber moves away from it only when their own data say so. The personal
cap is the posterior mode.

Sufficiency rule (all must hold, otherwise the subscriber keeps the segment cap, source
``"segment"``):

1. the posterior mode is a step (a fall in opens at some ``c``), not ``none``;
2. at that ``c`` at least ``min_sends_per_side`` sends at-or-below and above it;
3. at least ``min_opens`` human opens in total;
4. the subscriber's own data favour the step over no step: Bayes factor
   ``m(step at c) / m(none) >= min_bayes_factor``.

The evidence columns (sends, raw and shrunk open rates and shrinkage weights on each side)
are at the posterior-mode cap; when the mode is ``none`` they are at the segment cap (NaN when
the segment has no cap either).

Unsubscribes happen at most once per subscriber, so they cannot be modelled per subscriber;
the personal cap uses human opens only (the segment cap also uses clicks and unsubscribes).
Reference for the change-point marginal likelihood: Barry & Hartigan (1993), "A Bayesian
analysis for change point problems", JASA 88(421).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaln

from segkit.sendtime._fatigue import MAX_WEEKLY_BIN, SendCells

__all__: list[str] = []

MIN_SENDS_PER_SIDE = 8
MIN_OPENS = 5
MIN_BAYES_FACTOR = 3.0
PRIOR_WEIGHT = 0.5
MAX_PRIOR_STRENGTH = 1000.0
#: Subscribers per block of the posterior computation (bounds its memory).
BLOCK = 200_000


def _counts(cells: SendCells, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Subscriber rows, segments, sends and opens per (subscriber, clipped 7-day volume)."""
    rows, inv = np.unique(cells.row, return_inverse=True)
    v = np.minimum(cells.volume_7d, MAX_WEEKLY_BIN)
    flat, shape = inv * (MAX_WEEKLY_BIN + 1) + v, (len(rows), MAX_WEEKLY_BIN + 1)
    n = np.bincount(flat, weights=cells.n, minlength=shape[0] * shape[1]).reshape(shape)
    k = np.bincount(flat, weights=cells.open, minlength=shape[0] * shape[1]).reshape(shape)
    return rows, segments[rows], n, k


def beta_prior(opens: np.ndarray, sends: np.ndarray, min_sends: int) -> tuple[float, float]:
    """Method-of-moments Beta(a, b) for subscriber open rates, net of binomial noise."""
    use = sends >= min_sends
    if use.sum() < 2:
        use = sends > 0
    rate = opens[use] / sends[use]
    mean = float(np.clip(rate.mean(), 1e-3, 1 - 1e-3))
    between = float(rate.var(ddof=1)) - mean * (1 - mean) * float(np.mean(1 / sends[use])) if use.sum() > 1 else 0.0
    strength = mean * (1 - mean) / between - 1 if between > 0 else MAX_PRIOR_STRENGTH
    strength = float(np.clip(strength, 1.0, MAX_PRIOR_STRENGTH))
    return mean * strength, (1 - mean) * strength


def _log_ml(k: np.ndarray, n: np.ndarray, a: float, b: float) -> np.ndarray:
    return betaln(a + k, b + n - k) - betaln(a, b)


def _segment_posterior(n: np.ndarray, k: np.ndarray, a: float, b: float, segment_cap: float,
                       prior_weight: float) -> dict[str, np.ndarray]:
    """Posterior over the models (column 0: none, column c: step at c) for one segment."""
    n_le, k_le = np.cumsum(n, axis=1)[:, 1:MAX_WEEKLY_BIN], np.cumsum(k, axis=1)[:, 1:MAX_WEEKLY_BIN]
    total_n, total_k = n.sum(axis=1, keepdims=True), k.sum(axis=1, keepdims=True)
    n_gt, k_gt = total_n - n_le, total_k - k_le
    mean_low, mean_high = (a + k_le) / (a + b + n_le), (a + k_gt) / (a + b + n_gt)
    step = _log_ml(k_le, n_le, a, b) + _log_ml(k_gt, n_gt, a, b)
    step = np.where((mean_high < mean_low) & (n_le > 0) & (n_gt > 0), step, -np.inf)
    loglik = np.column_stack([_log_ml(total_k, total_n, a, b), step])
    seg_model = 0 if np.isnan(segment_cap) else int(segment_cap)
    prior = np.full(MAX_WEEKLY_BIN, (1 - prior_weight) / (MAX_WEEKLY_BIN - 1))
    prior[seg_model] = prior_weight
    post = loglik + np.log(prior)
    post = np.exp(post - post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    mode = post.argmax(axis=1)
    # evidence at the chosen step; for "none", at the segment cap (NaN if the segment has none)
    at = np.where(mode > 0, mode, seg_model)
    pick = lambda m: np.where(at > 0, np.take_along_axis(  # noqa: E731
        m, np.maximum(at - 1, 0)[:, None], axis=1)[:, 0], np.nan)
    return {"mode": mode, "posterior": post[np.arange(len(mode)), mode],
            "log_bf": np.where(mode > 0, loglik[np.arange(len(mode)), mode] - loglik[:, 0], 0.0),
            "n_below": pick(n_le), "opens_below": pick(k_le), "n_above": pick(n_gt),
            "opens_above": pick(k_gt), "total_opens": total_k[:, 0]}


def personal_caps(
    cells: SendCells,
    segments: np.ndarray,
    segment_caps: pd.Series,
    *,
    min_sends_per_side: int = MIN_SENDS_PER_SIDE,
    min_opens: int = MIN_OPENS,
    min_bayes_factor: float = MIN_BAYES_FACTOR,
    prior_weight: float = PRIOR_WEIGHT,
) -> pd.DataFrame:
    """Per-subscriber cap, its source (``personal``/``segment``) and the evidence (module doc).

    ``segments``: the segment of every subscriber row. Returns one row per subscriber row
    with sends (the ``row`` of ``cells``).
    """
    rows, segments, n, k = _counts(cells, segments)
    n_total, k_total = n.sum(axis=1), k.sum(axis=1)
    parts = []
    for segment in sorted(set(segments)):
        sel = segments == segment
        a, b = beta_prior(k_total[sel], n_total[sel], min_sends_per_side)
        cap = float(segment_caps.get(segment, np.nan))
        at = np.flatnonzero(sel)  # in blocks: the posterior's arrays are 10 wide per subscriber
        blocks = [_segment_posterior(n[at[i:i + BLOCK]], k[at[i:i + BLOCK]], a, b, cap, prior_weight)
                  for i in range(0, len(at), BLOCK)]  # fmt: skip
        res = {key: np.concatenate([block[key] for block in blocks]) for key in blocks[0]}
        strength = a + b
        part = pd.DataFrame({
            "segment_cap": cap,
            "personal_cap_estimate": np.where(res["mode"] > 0, res["mode"], np.nan),
            "personal_n_below": res["n_below"],
            "personal_n_above": res["n_above"],
            "personal_open_rate_below": res["opens_below"] / np.where(res["n_below"] > 0, res["n_below"], np.nan),
            "personal_open_rate_above": res["opens_above"] / np.where(res["n_above"] > 0, res["n_above"], np.nan),
            "shrunk_open_rate_below": (a + res["opens_below"]) / (strength + res["n_below"]),
            "shrunk_open_rate_above": (a + res["opens_above"]) / (strength + res["n_above"]),
            "shrinkage_weight_below": res["n_below"] / (strength + res["n_below"]),
            "shrinkage_weight_above": res["n_above"] / (strength + res["n_above"]),
            "human_opens": res["total_opens"].astype(int),
            "bayes_factor": np.exp(res["log_bf"]),
            "posterior_prob": res["posterior"],
            "prior_strength": strength,
        }, index=rows[sel])
        sufficient = ((res["mode"] > 0) & (res["n_below"] >= min_sends_per_side)
                      & (res["n_above"] >= min_sends_per_side) & (res["total_opens"] >= min_opens)
                      & (res["log_bf"] >= np.log(min_bayes_factor)))
        part["cap_source"] = np.where(sufficient, "personal", "segment")
        part["recommended_weekly_cap"] = np.where(sufficient, part["personal_cap_estimate"], cap)
        parts.append(part)
    return pd.concat(parts).sort_index()
