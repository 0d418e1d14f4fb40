"""A small synthetic sweep (panel, weight sets, rules) and one Dask LocalCluster of 2 worker processes per session.

The cluster is kept small for a shared 2-core machine: ``processes=True, n_workers=2, threads_per_worker=1``, no
dashboard, no network beyond localhost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.backtest.simulate import SimulationRules, kernel_inputs
from engine.backtest.sweep import SweepData
from engine.data.panel import Panel


def make_panel(n_sessions: int = 160, n_assets: int = 12, seed: int = 3) -> Panel:
    """Random-walk A-share main-board panel with a benchmark column (last) and some missing bars."""
    rng = np.random.default_rng(seed)
    close = 10.0 * np.exp(np.cumsum(rng.normal(0.0004, 0.02, (n_sessions, n_assets)), axis=0))
    close[rng.random(close.shape) < 0.01] = np.nan
    close[:, -1] = 3500.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.01, n_sessions)))
    open_ = close * (1 + rng.normal(0, 0.003, close.shape))
    sessions = pd.bdate_range("2024-01-02", periods=n_sessions).to_numpy(dtype="datetime64[ns]")
    codes = np.array([f"{600000 + j:06d}.SH" for j in range(n_assets - 1)] + ["000300.SH"], dtype=object)
    boards = np.array(["main"] * (n_assets - 1) + ["index"], dtype=object)
    return Panel(sessions=sessions, codes=codes, open=open_, high=np.fmax(open_, close), low=np.fmin(open_, close),
                 close=close, raw_close=np.full_like(close, np.nan),
                 volume=np.where(np.isfinite(close), 1e6, np.nan), tradable=np.isfinite(close),
                 markets=np.array(["A"] * n_assets, dtype=object), boards=boards)


def make_weight_sets(panel: Panel, n_sets: int = 4, seed: int = 9) -> np.ndarray:
    """``n_sets`` long-only books (no weight on the benchmark column), rebalanced every 5 sessions."""
    rng = np.random.default_rng(seed)
    n_sessions, n_assets = panel.shape
    w = rng.random((n_sets, n_sessions, n_assets))
    w[:, :, -1] = 0.0
    w /= w.sum(axis=2, keepdims=True) / 0.9
    w[:, np.arange(n_sessions) % 5 != 0, :] = np.nan
    return w


def make_rules(n: int) -> list[SimulationRules]:
    """``n`` variants cycling through commissions, stop-losses and rule switches."""
    out = []
    for v in range(n):
        out.append(SimulationRules(init_cash=1_000_000.0, commission_rate=0.0001 * (v % 5),
                                   commission_min=5.0 * (v % 2), stop_loss=(0.0, 0.05, 0.1)[v % 3],
                                   lots=v % 4 != 3, t_plus_one=v % 7 != 0))
    return out


@pytest.fixture(scope="session")
def sweep_case():
    """(data, rules, set_of_variant) for a 200-variant sweep over 4 weight sets."""
    panel = make_panel()
    weights = make_weight_sets(panel)
    rules = make_rules(200)
    set_of_variant = [v % weights.shape[0] for v in range(len(rules))]
    bench = pd.Series(panel.close[:, -1], index=pd.DatetimeIndex(panel.sessions, name="date"))
    data = SweepData(inputs=kernel_inputs(panel), weights=weights, sessions=panel.sessions,
                     bench_scaled=bench / bench.iloc[0] * 1_000_000.0, bench_close=bench, periods=242.0,
                     risk_free=0.01, use_low=True)
    return panel, data, rules, set_of_variant


@pytest.fixture(scope="session")
def cluster():
    """A Dask LocalCluster of 2 worker processes (skips when distributed is not installed)."""
    pytest.importorskip("distributed")
    from engine.executor.distributed import DaskExecutor

    ex = DaskExecutor(workers=2)
    yield ex
    ex.close()
