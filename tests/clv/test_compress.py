"""Compression to unique rows with counts: exact, order-independent, weight-preserving."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from segkit.clv._validation import compress

small_floats = st.sampled_from([0.0, 0.5, 1.0, 2.25, 38.86])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), small_floats, small_floats, st.integers(1, 3)), min_size=1, max_size=60))
def test_compress_matches_a_dictionary_count(rows):
    x, tx, T, w = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    out = compress(x, tx, T, weights=w)
    expected: dict[tuple, float] = {}
    for row in rows:
        expected[row[:3]] = expected.get(row[:3], 0.0) + row[3]
    got = {tuple(float(v) for v in key): weight for *key, weight in zip(*out.columns, out.weights, strict=True)}
    assert got == {tuple(float(v) for v in k): v2 for k, v2 in expected.items()}
    np.testing.assert_array_equal(np.stack(out.columns, 1)[out.inverse], np.stack([x, tx, T], 1))


def test_many_columns_do_not_overflow():
    rng = np.random.default_rng(0)
    columns = [rng.integers(0, 50_000, 200_000).astype(float) for _ in range(5)]
    out = compress(*columns, weights=np.ones(200_000))
    assert out.weights.sum() == 200_000
    np.testing.assert_array_equal(np.stack(out.columns, 1)[out.inverse], np.stack(columns, 1))
