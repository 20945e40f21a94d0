"""Exposure correction: opens per hour of exposure after each send, by local hour of day.

Why: a subscriber can only open after an email arrives, so the raw hour of most opens mostly
repeats the hours the program already sends at. segkit models the open *rate* instead.

Model (a log-linear Poisson rate model, the discrete-time analogue of a multiplicative hazard
``lambda(t) = a(time since send) * b(local hour)``):

* every human open is attributed to the latest send to the same subscriber at or before it, at
  delay ``d`` = whole hours since that send; only ``d < K`` (``exposure_hours``) and the first
  human open per send count (unique opens);
* send ``j`` exposes the subscriber for ``L_j = min(K, hours to the next send, hours to as_of)``
  delay-hours ``d = 0 .. L_j - 1``; delay-hour ``d`` falls in local hour ``(s_j + d) mod 24``
  where ``s_j`` is the local send hour (DST-correct);
* ``E[opens at delay d, local hour h] = sum_j 1[d < L_j, (s_j + d) mod 24 = h] * a(d) * b(h)``.

``a`` (the time-to-open curve: most opens come soon after delivery) and the global hour profile
``b`` are fitted jointly by iterative proportional fitting (the Poisson maximum-likelihood
equations of the two-factor model, Bishop, Fienberg & Holland 1975, ch. 3). A subscriber's
*expected* opens per local hour with no hour preference are then
``E_i(h) = sum_j sum_{d < L_j, (s_j + d) mod 24 = h} a(d)``, and observed/expected is an
exposure-adjusted rate ratio (an SMR in epidemiology terms). The same expected counts over the
local weekday give the weekday profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from segkit.sendtime._inputs import TS_BITS, SendTimeData
from segkit.sendtime._local_time import SECONDS_PER_HOUR, hour_of_day, local_seconds, weekday

__all__: list[str] = []

IPF_ITERATIONS = 200
IPF_TOLERANCE = 1e-9
#: Bins of each local period of the profiles.
PERIOD_BINS = {"hour": 24, "weekday": 7}


@dataclass(frozen=True)
class Profiles:
    """Per-subscriber observed and expected counts (rows follow ``data.subscribers``).

    The (n, 24) and (n, 7) arrays are built on demand, for all rows (the properties) or for a
    range of rows (:meth:`observed`, :meth:`expected`), from the compact form kept here: the attributed opens (owner
    row, local hour and weekday, sorted by owner) and the sparse send design times the fitted
    kernels. :func:`segkit.sendtime._recommend.fit` works on small ranges of rows, so memory
    stays bounded at millions of subscribers.
    """

    n_opens: np.ndarray  # (n,) all human opens up to as_of (attributed or not)
    n_sends: np.ndarray  # (n,)
    delay_curve: np.ndarray  # a(d), d = 0..K-1, scaled to sum 1
    global_hour: np.ndarray  # b(h), mean 1
    method: str
    opens: OpenSlots  # attributed human opens (every human open without sends)
    design: sp.csr_matrix | None  # (n, cells) sends per (weekday, hour, length) cell
    kernels: tuple[np.ndarray, np.ndarray] | None  # expected opens per cell by local hour, weekday

    def observed(self, period: str, start: int, stop: int) -> np.ndarray:
        """Attributed human opens of rows ``start:stop`` by local ``period`` (``"hour"``: rows
        x 24, ``"weekday"``: rows x 7), as floats."""
        return self.opens.counts(period, start, stop)

    def expected(self, period: str, start: int, stop: int) -> np.ndarray:
        """Opens of rows ``start:stop`` expected with no hour (weekday) preference, by local
        ``period``, in relative units."""
        if self.design is None:  # no sends: every hour counts as equally exposed
            bins = PERIOD_BINS[period]
            return np.repeat(self.n_opens[start:stop, None] / float(bins), bins, axis=1)
        rows = self.design if (start, stop) == (0, self.design.shape[0]) else self.design[start:stop]
        return np.asarray(rows @ self.kernels[0 if period == "hour" else 1])

    @property
    def opens_hour(self) -> np.ndarray:  # (n, 24) attributed human opens by local hour
        return self.observed("hour", 0, len(self.n_opens))

    @property
    def expected_hour(self) -> np.ndarray:  # (n, 24) expected opens with no hour preference
        return self.expected("hour", 0, len(self.n_opens))

    @property
    def opens_weekday(self) -> np.ndarray:  # (n, 7)
        return self.observed("weekday", 0, len(self.n_opens))

    @property
    def expected_weekday(self) -> np.ndarray:  # (n, 7)
        return self.expected("weekday", 0, len(self.n_opens))


def _attribute(data: SendTimeData, open_local: np.ndarray, horizon: np.ndarray) -> tuple:
    """Latest send at or before each open; keep the first open per send within its horizon."""
    send_key = data.send_sub << TS_BITS | data.send_ts
    open_key = data.open_sub << TS_BITS | data.open_ts
    j = np.searchsorted(send_key, open_key, side="right") - 1
    valid = j >= 0
    valid[valid] = data.send_sub[j[valid]] == data.open_sub[valid]
    delay = np.full(len(j), -1, dtype=np.int64)
    delay[valid] = (data.open_ts[valid] - data.send_ts[j[valid]]) // SECONDS_PER_HOUR
    keep = valid & (delay < horizon[np.maximum(j, 0)])
    rows = np.flatnonzero(keep)
    # opens are sorted by (subscriber, time), so j is non-decreasing: keep the first per send
    sent = j[rows]
    rows = rows[np.r_[True, sent[1:] != sent[:-1]]] if len(rows) else rows
    return rows, j[rows], delay[rows]


def _horizon(data: SendTimeData, as_of_s: int, hours: int) -> np.ndarray:
    """Exposure length L_j in whole hours: up to K, the next send, or as_of."""
    nxt = np.append(data.send_ts[1:], np.iinfo(np.int64).max)
    same = np.append(data.send_sub[1:] == data.send_sub[:-1], False)
    end = np.minimum(np.where(same, nxt, np.iinfo(np.int64).max), as_of_s)
    span = -(-(end - data.send_ts) // SECONDS_PER_HOUR)  # ceil: a partial hour is exposure too
    return np.clip(span, 0, hours).astype(np.int64)


def fit_delay_hour(opens: np.ndarray, at_risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IPF for ``E[O[d, h]] = X[d, h] a(d) b(h)``; returns ``a`` (sum 1) and ``b`` (mean 1)."""
    a = np.full(opens.shape[0], 1.0)
    b = np.ones(24)
    row, col = opens.sum(axis=1), opens.sum(axis=0)
    for _ in range(IPF_ITERATIONS):
        a_new = np.divide(row, at_risk @ b, out=np.zeros_like(row, dtype=float), where=(at_risk @ b) > 0)
        denom = at_risk.T @ a_new
        b_new = np.divide(col, denom, out=np.ones(24), where=denom > 0)
        b_new = b_new / b_new.mean() if b_new.mean() > 0 else np.ones(24)
        done = np.max(np.abs(b_new - b)) < IPF_TOLERANCE
        a, b = a_new, b_new
        if done:
            break
    total = a.sum()
    return (a / total if total > 0 else np.full(len(a), 1.0 / len(a))), b


def _risk_table(send_hour: np.ndarray, horizon: np.ndarray, hours: int) -> np.ndarray:
    """X[d, h] = sends whose exposure includes delay d at local hour h."""
    counts = np.bincount(send_hour * (hours + 1) + horizon, minlength=24 * (hours + 1))
    return risk_from_counts(counts.reshape(24, hours + 1), hours)


def risk_from_counts(by_length: np.ndarray, hours: int) -> np.ndarray:
    """X[d, h] from the number of sends per (local send hour s, exposure length L), (24, K+1)."""
    longer = by_length[:, ::-1].cumsum(axis=1)[:, ::-1]  # sends at hour s with L >= l
    at_risk = np.zeros((hours, 24))
    for d in range(hours):
        at_risk[d] = np.roll(longer[:, d + 1], d)  # s -> h = (s + d) mod 24
    return at_risk


def _kernels(a: np.ndarray, hours: int) -> tuple[np.ndarray, np.ndarray]:
    """Expected opens by (local send weekday, hour, L) -> local hour (24) and weekday (7)."""
    cells = 7 * 24 * (hours + 1)
    to_hour = np.zeros((cells, 24))
    to_day = np.zeros((cells, 7))
    for w in range(7):
        for s in range(24):
            base = (w * 24 + s) * (hours + 1)
            for d in range(hours):
                # cells with L > d receive a(d); fill by difference along L
                h = (s + d) % 24
                day = (w + (s + d) // 24) % 7
                to_hour[base + d + 1 : base + hours + 1, h] += a[d]
                to_day[base + d + 1 : base + hours + 1, day] += a[d]
    return to_hour, to_day


_KERNEL_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _cached_kernels(a: np.ndarray, hours: int) -> tuple[np.ndarray, np.ndarray]:
    key = (hours, a.round(12).tobytes())
    if key not in _KERNEL_CACHE:
        _KERNEL_CACHE.clear()
        _KERNEL_CACHE[key] = _kernels(a, hours)
    return _KERNEL_CACHE[key]


def profiles(data: SendTimeData, as_of_s: int, hours: int) -> Profiles:
    """Observed and exposure-expected opens per subscriber by local hour and weekday."""
    n = len(data.subscribers)
    open_local = local_seconds(data.open_ts, data.zone_code[data.open_sub], data.zones)
    n_opens = np.bincount(data.open_sub, minlength=n)
    n_sends = np.bincount(data.send_sub, minlength=n)
    if len(data.send_ts) == 0:
        return _without_sends(data, open_local, n_opens, n_sends, hours)
    send_local = local_seconds(data.send_ts, data.zone_code[data.send_sub], data.zones)
    s_hour, s_day = hour_of_day(send_local), weekday(send_local)
    horizon = _horizon(data, as_of_s, hours)
    rows, _, delay = _attribute(data, open_local, horizon)
    opens = OpenSlots(data.open_sub[rows], hour_of_day(open_local[rows]), weekday(open_local[rows]))
    cell = (s_day * 24 + s_hour) * (hours + 1) + horizon
    return exposure_profiles(opens, delay, data.send_sub, cell, _risk_table(s_hour, horizon, hours),
                             n, n_opens, n_sends, hours)


@dataclass(frozen=True)
class OpenSlots:
    """Human opens as arrays: owner row, local hour (0-23) and local weekday (0-6) of each."""

    sub: np.ndarray
    hour: np.ndarray
    day: np.ndarray

    @cached_property
    def by_owner(self) -> bool:
        """Whether the opens are sorted by owner (both paths give them so)."""
        return len(self.sub) < 2 or bool(np.all(self.sub[1:] >= self.sub[:-1]))

    def counts(self, period: str, start: int, stop: int) -> np.ndarray:
        """Open counts of rows ``start:stop`` by local ``period``: rows x 24 (``"hour"``) or
        rows x 7 (``"weekday"``), as floats."""
        sub, values = self.sub, self.hour if period == "hour" else self.day
        if not self.by_owner:
            keep = (sub >= start) & (sub < stop)
            sub, values = sub[keep], values[keep]
        else:  # a slice
            lo, hi = np.searchsorted(sub, [start, stop])
            sub, values = sub[lo:hi], values[lo:hi]
        bins, n = PERIOD_BINS[period], stop - start
        cells = (sub.astype(np.int64) - start) * bins + values
        return np.bincount(cells, minlength=n * bins).reshape(n, bins).astype(float)

    def totals(self, period: str, group: np.ndarray, groups: int) -> np.ndarray:
        """Open counts per group of owners (``group``: each row's code) by local ``period``,
        (groups x bins) floats; whole numbers, so they equal the sums of :meth:`counts` in any
        order."""
        bins = PERIOD_BINS[period]
        cells = group[self.sub].astype(np.int64) * bins + (self.hour if period == "hour" else self.day)
        return np.bincount(cells, minlength=groups * bins).reshape(groups, bins).astype(float)


def exposure_profiles(opens: OpenSlots, delay: np.ndarray, send_sub: np.ndarray, cell: np.ndarray,
                      risk: np.ndarray, n: int, n_opens: np.ndarray, n_sends: np.ndarray,
                      hours: int) -> Profiles:
    """:class:`Profiles` from attributed opens (their delays after the send, in hours) and the
    sends' cells ``(weekday * 24 + hour) * (hours + 1) + exposure length``; ``risk`` is the
    delay x hour exposure table. Shared by the event path and the engine path."""
    observed = np.bincount(delay * 24 + opens.hour, minlength=hours * 24).reshape(hours, 24)
    a, b = fit_delay_hour(observed.astype(float), risk)
    to_hour, to_day = _cached_kernels(a, hours)
    index = np.int32 if max(n, 7 * 24 * (hours + 1), len(cell)) < 2**31 else np.int64
    design = sp.coo_matrix(
        (np.ones(len(cell), dtype=np.float32), (send_sub.astype(index, copy=False), cell.astype(index, copy=False))),
        shape=(n, 7 * 24 * (hours + 1)),
    ).tocsr()
    return Profiles(
        n_opens=n_opens,
        n_sends=n_sends,
        delay_curve=a,
        global_hour=b,
        method=f"exposure-adjusted open rate (Poisson delay x hour model, {hours} h window)",
        opens=opens,
        design=design,
        kernels=(to_hour, to_day),
    )


def _without_sends(data, open_local, n_opens, n_sends, hours) -> Profiles:
    opens = OpenSlots(data.open_sub, hour_of_day(open_local), weekday(open_local))
    return profiles_without_sends(opens, len(data.subscribers), n_opens, n_sends, hours)


def profiles_without_sends(opens: OpenSlots, n: int, n_opens: np.ndarray, n_sends: np.ndarray,
                           hours: int) -> Profiles:
    """No send events: exposure cannot be measured; every hour counts as equally exposed."""
    total = np.bincount(opens.hour, minlength=24).astype(float)
    b = total / total.mean() if total.sum() > 0 else np.ones(24)
    return Profiles(
        n_opens=n_opens,
        n_sends=n_sends,
        delay_curve=np.full(hours, 1.0 / hours),
        global_hour=b,
        method="raw open-hour counts (no send events: exposure correction not possible)",
        opens=opens,
        design=None,
        kernels=None,
    )
