"""Regenerate clv_lifetimes_oracle.json: lifetimes 0.11.3 outputs on the vendored CDNOW sample.

Run: .venv/bin/python tests/results/clv_lifetimes_oracle.py  (needs lifetimes). The JSON lets the CLV
tests compare with lifetimes even where lifetimes is not installed. Log-likelihoods are lifetimes'
own likelihood functions evaluated at its fitted parameters on the unscaled data (total, not mean).
"""

from __future__ import annotations

import json
from pathlib import Path

import lifetimes
import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

HERE = Path(__file__).parent
DATA = HERE.parent / "data"
N_SHOW = 25


def _beta_geo_family(model, ll, x, tx, T, head) -> dict:
    """Parameters and predictions of a fitted BetaGeoFitter / ModifiedBetaGeoFitter."""
    grid = np.array([5.0, 39.0, 78.0])
    counts = (0, 1, 2, 5, 10)
    return {
        "params": model.params_.to_dict(),
        "standard_errors": model.standard_errors_.to_dict(),
        "log_likelihood": float(ll),
        "conditional_expected_39": list(model.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T)[head]),
        "probability_alive": list(model.conditional_probability_alive(x, tx, T)[head]),
        "expected_purchases_t": list(grid),
        "expected_purchases": list(model.expected_number_of_purchases_up_to_time(grid)),
        "probability_of_purchases_t39_n": list(counts),
        "probability_of_purchases_t39": [float(model.probability_of_n_purchases_up_to_time(39, n)) for n in counts],
    }


def main() -> None:
    d = pd.read_csv(DATA / "clv_cdnow_customers_summary.csv")
    s = pd.read_csv(DATA / "clv_cdnow_customers_summary_with_transactions.csv")
    x, tx, T = d["frequency"].to_numpy(), d["recency"].to_numpy(), d["T"].to_numpy()
    ones = np.ones(len(x))
    bg = BetaGeoFitter().fit(x, tx, T)
    bg_ll = -BetaGeoFitter._negative_log_likelihood(np.log(bg.params_.to_numpy()), x, tx, T, ones, 0.0) * len(x)
    mbg = ModifiedBetaGeoFitter().fit(x, tx, T)
    mbg_ll = -ModifiedBetaGeoFitter._negative_log_likelihood(np.log(mbg.params_.to_numpy()), x, tx, T, ones, 0.0) * len(x)
    pn = ParetoNBDFitter().fit(x, tx, T)
    pn_ll = float(ParetoNBDFitter._conditional_log_likelihood(pn.params_.to_numpy(), x, tx, T).sum())
    buyers = s["x"] > 0
    gg = GammaGammaFitter().fit(s.loc[buyers, "x"].to_numpy(), s.loc[buyers, "zbar"].to_numpy())
    gg_ll = -GammaGammaFitter._negative_log_likelihood(
        np.log(gg.params_.to_numpy()), s.loc[buyers, "x"].to_numpy(), s.loc[buyers, "zbar"].to_numpy(),
        np.ones(int(buyers.sum())), 0.0,
    ) * int(buyers.sum())
    head = slice(0, N_SHOW)
    bg_s = BetaGeoFitter().fit(s["x"].to_numpy(), s["t_x"].to_numpy(), s["T"].to_numpy())
    clv = gg.customer_lifetime_value(
        bg_s, s["x"], s["t_x"], s["T"], s["zbar"], time=12, discount_rate=0.01, freq="W"
    )
    out = {
        "source": f"lifetimes {lifetimes.__version__} on tests/data/clv_cdnow_customers_summary*.csv",
        "first_customers": N_SHOW,
        "bgnbd": _beta_geo_family(bg, bg_ll, x, tx, T, head),
        "mbgnbd": _beta_geo_family(mbg, mbg_ll, x, tx, T, head),
        "pareto_nbd": {
            "params": pn.params_.to_dict(),
            "log_likelihood": pn_ll,
            "conditional_expected_39": list(pn.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T)[head]),
            "probability_alive": list(pn.conditional_probability_alive(x, tx, T)[head]),
        },
        "gamma_gamma": {
            "params": gg.params_.to_dict(),
            "log_likelihood": float(gg_ll),
            "conditional_expected_spend": list(gg.conditional_expected_average_profit(s["x"], s["zbar"])[head]),
        },
        "clv_bgnbd_gg": {
            "note": "BG/NBD fitted on the with-transactions file; time=12 months, discount_rate=0.01, freq='W' (4.345 weeks per month)",
            "period_length": 4.345,
            "clv": list(clv.to_numpy()[head]),
        },
    }
    (HERE / "clv_lifetimes_oracle.json").write_text(json.dumps(out, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
