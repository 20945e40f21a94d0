"""Run an Ibis table expression and return a pandas DataFrame through Arrow."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

__all__ = ["fetch"]


def fetch(expr: ir.Table) -> pd.DataFrame:
    """``expr`` as a DataFrame via ``to_pyarrow()`` (every Ibis backend supports it).

    On DuckDB, ``to_pandas()`` converted ``TIMESTAMPTZ`` columns value by value and cost more
    than the queries themselves; Arrow's conversion is vectorised.
    """
    return expr.to_pyarrow().to_pandas()
