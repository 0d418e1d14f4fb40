"""Backtests of rating signals: strategy weights → numba simulator with A-share / HK rules → results.

Public API (imported lazily so ``import engine.backtest`` stays cheap):

- :func:`engine.backtest.run.run_backtest` ``(cfg, *, signals=None, panel=None, progress=None) -> BacktestRun``
- :func:`engine.backtest.run.write_run` ``(run, out_dir, command_line="") -> list[Path]``
- :func:`engine.backtest.simulate.simulate_weights` / :func:`~engine.backtest.simulate.simulate_sweep` for
  weights computed elsewhere; :class:`~engine.backtest.simulate.SimulationRules` for the settings.
- :mod:`engine.backtest.rules`: the dated fee / limit tables.
- :mod:`engine.backtest.actions`: traded prices and corporate actions from the adjustment factor.
- :mod:`engine.backtest.reference`: ST flags and listing dates (user files, akshare's ST list).
"""

from __future__ import annotations

__all__ = ["run_backtest", "write_run", "BacktestRun", "simulate_weights", "simulate_sweep", "SimulationRules"]


def __getattr__(name: str):
    if name in ("run_backtest", "write_run", "BacktestRun"):
        from engine.backtest import run

        return getattr(run, name)
    if name in ("simulate_weights", "simulate_sweep", "SimulationRules"):
        from engine.backtest import simulate

        return getattr(simulate, name)
    raise AttributeError(f"module 'engine.backtest' has no attribute {name!r}")
