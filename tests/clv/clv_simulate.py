"""A BG/NBD simulator with planted parameters (test helper, independent of segkit.datasets)."""

from __future__ import annotations

import numpy as np
from scipy.special import polygamma


def simulate_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, T: float | np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frequency, recency, T) for ``n`` customers observed for ``T`` after their first purchase.

    Each customer: rate lambda ~ gamma(r, scale 1/alpha), dropout p ~ beta(a, b); exponential gaps
    between purchases; after each repeat purchase the customer drops out with probability p.
    """
    ages = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    tx = np.zeros(n)
    clock = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0, idx.size) / lam[idx]
        bought = clock[idx] <= ages[idx]
        buyers = idx[bought]
        x[buyers] += 1
        tx[buyers] = clock[buyers]
        active[idx[~bought]] = False
        active[buyers[rng.random(buyers.size) < p[buyers]]] = False
    return x, tx, ages


def simulate_pareto_nbd(
    n: int, r: float, alpha: float, s: float, beta: float, T: float | np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frequency, recency, T) under Pareto/NBD: rate lambda ~ gamma(r, 1/alpha), lifetime
    ~ exponential(mu) with mu ~ gamma(s, 1/beta); Poisson purchases while alive and before T."""
    ages = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    observed = np.minimum(rng.exponential(1.0, n) / mu, ages)
    x = rng.poisson(lam * observed).astype(float)
    # given the count, purchase times are uniform on (0, observed): the last is the max of x uniforms
    tx = np.where(x > 0, observed * rng.random(n) ** (1.0 / np.maximum(x, 1.0)), 0.0)
    return x, tx, ages


def simulate_common_dropout(
    n: int, r: float, alpha: float, mu: float, T: float | np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frequency, recency, T) with no dropout heterogeneity: rate lambda ~ gamma(r, 1/alpha) and
    one exponential(mu) lifetime distribution for everyone (the Pareto/NBD limit s, beta -> inf
    with s/beta = mu); purchase times simulated one gap at a time."""
    ages = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n)
    end = np.minimum(rng.exponential(1.0 / mu, n), ages)
    x, tx, clock = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0, idx.size) / lam[idx]
        bought = clock[idx] <= end[idx]
        x[idx[bought]] += 1
        tx[idx[bought]] = clock[idx[bought]]
        active[idx[~bought]] = False
    return x, tx, ages


def nbd_standard_errors(r: float, alpha: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Standard errors of (r, alpha) from the closed-form Hessian of the NBD log-likelihood."""
    h = np.empty((2, 2))
    h[0, 0] = np.sum(polygamma(1, r + x) - polygamma(1, r))
    h[0, 1] = h[1, 0] = np.sum(1 / alpha - 1 / (alpha + T))
    h[1, 1] = np.sum(-r / alpha**2 + (r + x) / (alpha + T) ** 2)
    return np.sqrt(np.diag(np.linalg.inv(-h)))
