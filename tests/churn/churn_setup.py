"""Constants of the churn tests' synthetic program (imported by conftest and the tests; a unique
module name, because ``conftest`` is ambiguous when several test folders are on ``sys.path``)."""

from __future__ import annotations

import pandas as pd

N_SUBSCRIBERS = 1_500
SEED = 5
TRAIN_AT = pd.Timestamp("2024-06-01", tz="UTC")
EVAL_AT = pd.Timestamp("2024-09-01", tz="UTC")
