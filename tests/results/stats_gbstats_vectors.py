"""Regenerate stats_gbstats_vectors.json: GrowthBook gbstats 0.8.0 outputs on its own test vectors.

Run: .venv/bin/python tests/results/stats_gbstats_vectors.py  (needs gbstats 0.8.0, installed with
``pip install --no-deps gbstats==0.8.0``: its metadata pins pandas<2 and numpy<2, which segkit
cannot satisfy, but the modules used here import and run on segkit's pandas 3 / numpy 2).

The inputs are the summary statistics of the test vectors in the growthbook repository,
packages/stats/tests (frequentist/test_tests.py, bayesian/test_tests.py and test_gbstats.py of
the gbstats 0.8 era); "published" holds the rounded values those tests assert (5 decimals), and
"gbstats" the full-precision outputs of gbstats 0.8.0 on the same inputs. Only numbers are kept.
"""

from __future__ import annotations

import json
from pathlib import Path

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import (
    FrequentistConfig,
    OneSidedTreatmentGreaterTTest,
    OneSidedTreatmentLesserTTest,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic
from gbstats.utils import check_srm

HERE = Path(__file__).parent
MEANS = ({"n": 3407, "sum": 1396.87, "sum_squares": 52377.9767},
         {"n": 3461, "sum": 2422.7, "sum_squares": 134698.29})
PROPORTIONS = ({"n": 28, "sum": 14}, {"n": 30, "sum": 16})
SEQ_MEANS = ({"n": 3000, "sum": 1396.87, "sum_squares": 52377.9767},
             {"n": 3461, "sum": 2422.7, "sum_squares": 134698.29})
SEQ_PROPORTIONS = ({"n": 3000, "sum": 1396}, {"n": 3461, "sum": 2422})
BAYES_PROPORTIONS = ({"n": 100, "sum": 49}, {"n": 100, "sum": 51})
BAYES_MEANS = ({"n": 10, "sum": 100, "sum_squares": 1002.25},
               {"n": 10, "sum": 105, "sum_squares": 1111.5})


def _stat(d: dict):
    if "sum_squares" in d:
        return SampleMeanStatistic(n=d["n"], sum=d["sum"], sum_squares=d["sum_squares"])
    return ProportionStatistic(n=d["n"], sum=d["sum"])


def _frequentist(test_class, pair, difference_type, **config) -> dict:
    config_class = SequentialConfig if test_class is SequentialTwoSidedTTest else FrequentistConfig
    result = test_class(_stat(pair[0]), _stat(pair[1]),
                        config_class(difference_type=difference_type, **config)).compute_result()
    return {"expected": result.expected, "ci": [float(x) for x in result.ci],
            "p_value": float(result.p_value), "stddev": float(result.uplift.stddev)}


def _bayesian(pair, difference_type) -> dict:
    result = EffectBayesianABTest(_stat(pair[0]), _stat(pair[1]),
                                  EffectBayesianConfig(difference_type=difference_type)
                                  ).compute_result()
    return {"expected": float(result.expected), "ci": [float(x) for x in result.ci],
            "chance_to_win": float(result.chance_to_win), "risk": [float(r) for r in result.risk],
            "stddev": float(result.uplift.stddev)}


def main() -> None:
    vectors = {
        "source": ("growthbook/growthbook packages/stats/tests (inputs and 'published' rounded "
                   "expectations); gbstats 0.8.0 from PyPI (full-precision 'gbstats' outputs)"),
        "frequentist": [
            {"name": f"means_{kind}_{side}", "kind": "continuous", "inputs": MEANS,
             "difference_type": kind, "alternative": side,
             "gbstats": _frequentist(cls, MEANS, kind)}
            for kind in ("relative", "absolute")
            for side, cls in (("two-sided", TwoSidedTTest),
                              ("larger", OneSidedTreatmentGreaterTTest),
                              ("smaller", OneSidedTreatmentLesserTTest))
        ] + [
            {"name": f"proportions_{kind}", "kind": "proportion", "inputs": PROPORTIONS,
             "difference_type": kind, "alternative": "two-sided",
             "gbstats": _frequentist(TwoSidedTTest, PROPORTIONS, kind)}
            for kind in ("relative", "absolute")
        ],
        "sequential": [
            {"name": f"{label}_{kind}_tuning_{tuning}", "inputs": pair, "difference_type": kind,
             "tuning": tuning,
             "gbstats": _frequentist(SequentialTwoSidedTTest, pair, kind,
                                     sequential_tuning_parameter=tuning)}
            for label, pair in (("means", SEQ_MEANS), ("proportions", SEQ_PROPORTIONS))
            for kind in ("relative", "absolute")
            for tuning in (1000, 5000)
        ],
        "bayesian": [
            {"name": f"{label}_{kind}", "inputs": pair, "difference_type": kind,
             "gbstats": _bayesian(pair, kind)}
            for label, pair in (("proportions", BAYES_PROPORTIONS), ("means", BAYES_MEANS))
            for kind in ("relative", "absolute")
        ],
        "srm": [
            {"users": users, "weights": weights, "gbstats": float(check_srm(users, weights))}
            for users, weights in (([5000, 5100], [0.5, 0.5]), ([1000, 1200, 800], [1, 1, 1]),
                                   ([3407, 3461], [0.5, 0.5]), ([4800, 5200], [0.4, 0.6]))
        ],
        "published": {
            "means_relative_two-sided": {"expected": 0.70732, "ci": [-0.03526, 1.44989],
                                         "stddev": 0.37879, "p_value": 0.06191},
            "means_absolute_two-sided": {"expected": 0.29, "ci": [0.04538, 0.53462],
                                         "stddev": 0.12478, "p_value": 0.02016},
            "proportions_relative": {"expected": 0.06667, "ci": [-0.47767, 0.61101],
                                     "stddev": 0.2717, "p_value": 0.80707},
            "means_relative_tuning_1000": {"expected": 0.50336, "ci": [-0.55844, 1.56516],
                                           "stddev": 0.33341, "p_value": 1.0},
            "proportions_relative_tuning_5000": {"expected": 0.50386, "ci": [0.40098, 0.60675],
                                                 "stddev": 0.03386, "p_value": 0.0},
        },
    }
    (HERE / "stats_gbstats_vectors.json").write_text(json.dumps(vectors, indent=1) + "\n")


if __name__ == "__main__":
    main()
