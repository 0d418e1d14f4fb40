"""No look-ahead in the backtest runner: a signal published on day t never fills on t (or before).

Signals of the ``signals_file`` fixture (see ``conftest.py``):

- ``a``: 600000.SH published Thu 2024-03-07 (a session) → first fill on Fri 2024-03-08;
- ``b``: 000001.SZ published Sat 2024-03-09 (no session) → first fill on Mon 2024-03-11.

With ``execution: open`` the fill is at that session's open, with ``execution: close`` at its close; the fill
price is checked against the CSV rows (lots off, costs off, no raw prices → traded price = adjusted price).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.backtest.run import run_backtest
from engine.config import load_backtest_config

PUBLISHED = {"600000.SH": pd.Timestamp("2024-03-07"), "000001.SZ": pd.Timestamp("2024-03-09")}
FIRST_FILL = {"600000.SH": pd.Timestamp("2024-03-08"), "000001.SZ": pd.Timestamp("2024-03-11")}
FILES = {"600000.SH": "SH600000.csv", "000001.SZ": "SZ000001.csv"}


def _portfolio(execution: str, **rules: bool) -> dict:
    return {"portfolio": {"cash": 100_000, "costs": "none", "rules": {"lots": False, **rules}, "execution": execution}}


@pytest.mark.parametrize("execution,price_col", [("open", "open"), ("close", "close")])
def test_no_fill_on_or_before_the_publication_date(config_file, prices_dir, execution, price_col):
    run = run_backtest(load_backtest_config(config_file(), _portfolio(execution)))
    trades = run.trades
    assert set(trades["code"]) == set(PUBLISHED)
    for code, published in PUBLISHED.items():
        own = trades[trades["code"] == code]
        # nothing at all (fill or rejection) on or before the publication date
        assert (own["date"] > published).all(), own
        first = own[own["filled"]].iloc[0]
        assert first["side"] == "buy" and first["date"] == FIRST_FILL[code]
        bars = pd.read_csv(prices_dir / FILES[code], parse_dates=["date"]).set_index("date")
        assert first["price"] == pytest.approx(bars.loc[FIRST_FILL[code], price_col], abs=1e-12)
    # the equity curve is flat (all cash) up to and including the first publication date
    before = run.equity.loc[: PUBLISHED["600000.SH"], "equity"]
    assert (before == 100_000.0).all() and len(before) == 5


def test_prices_on_and_after_the_fill_session_do_not_move_the_decision(config_file, prices_dir, tmp_path,
                                                                       monkeypatch):
    """Perturb every price from the first fill session on: the fill dates and share counts are decided by the
    signals alone, and the equity before the first fill is unchanged (nothing after a session leaks into it).
    Price limits are off here: a +50 % jump at the fill session would rightly block the buy."""
    base = run_backtest(load_backtest_config(config_file(), _portfolio("close", limits=False)))
    for name in FILES.values():
        path = prices_dir / name
        bars = pd.read_csv(path)
        later = pd.to_datetime(bars["date"]) >= FIRST_FILL["600000.SH"]
        factor = np.linspace(1.5, 2.0, int(later.sum()))   # not a constant: returns change too
        for col in ("open", "high", "low", "close"):
            bars.loc[later, col] = (bars.loc[later, col] * factor).round(4)
        bars.to_csv(path, index=False)
    monkeypatch.setenv("RATINGBT_CACHE", str(tmp_path / "cache2"))  # the first run's cache holds the old prices
    moved = run_backtest(load_backtest_config(config_file(), _portfolio("close", limits=False)))
    for run in (base, moved):
        fills = run.trades[run.trades["filled"]].groupby("code", observed=True)["date"]
        assert fills.min().to_dict() == FIRST_FILL
    # exits (the last fill of each stock) likewise: the horizon end of a and the downgrade of b
    assert (base.trades[base.trades["filled"]].groupby("code", observed=True)["date"].max().to_dict()
            == moved.trades[moved.trades["filled"]].groupby("code", observed=True)["date"].max().to_dict())
    cut = FIRST_FILL["600000.SH"] - pd.Timedelta(days=1)
    np.testing.assert_array_equal(base.equity.loc[:cut, "equity"], moved.equity.loc[:cut, "equity"])
    assert not np.allclose(base.equity["equity"], moved.equity["equity"])   # the perturbation did bite
