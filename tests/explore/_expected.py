"""Independent pandas versions of what the explorer should show (no segkit code)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def tiers(features: pd.DataFrame, *, window: int = 90, inactive_days: float = 90,
          high_open_rate: float = 0.5, high_click_rate: float = 0.1,
          moderate_open_rate: float = 0.2, moderate_click_rate: float = 0.02) -> pd.Series:
    opens, clicks = features[f"open_rate_{window}d"], features[f"click_rate_{window}d"]
    since = features["days_since_last_open"]
    label = pd.Series("low", index=features.index)
    moderate = (opens >= moderate_open_rate) & (clicks >= moderate_click_rate)
    high = (opens >= high_open_rate) & (clicks >= high_click_rate)
    label[moderate.fillna(False)] = "moderately_engaged"
    label[high.fillna(False)] = "highly_engaged"
    label[~(since < inactive_days).fillna(False)] = "inactive"
    return label


def sizes(labels: pd.Series, keep: pd.Series | np.ndarray | None = None) -> dict[str, int]:
    chosen = labels if keep is None else labels[np.asarray(keep, dtype=bool)]
    return {str(k): int(v) for k, v in chosen.value_counts().items()}


def open_rates(features: pd.DataFrame, labels: pd.Series, keep: np.ndarray, window: int = 90) -> pd.DataFrame:
    """Per segment among the kept recipients: recipients, open rate, and the rest's open rate."""
    frame = features[np.asarray(keep, dtype=bool)]
    lab = labels[np.asarray(keep, dtype=bool)]
    recipients = frame[f"sends_{window}d"].fillna(0) > 0
    frame, lab = frame[recipients], lab[recipients]
    rows = {}
    for name in lab.unique():
        inside = (lab == name).to_numpy()
        opens, sends = frame[f"unique_opens_{window}d"].fillna(0), frame[f"sends_{window}d"].fillna(0)
        rows[name] = {"recipients": int(inside.sum()),
                      "value": opens[inside].sum() / sends[inside].sum(),
                      "rest_value": opens[~inside].sum() / sends[~inside].sum()}
    return pd.DataFrame(rows).T
