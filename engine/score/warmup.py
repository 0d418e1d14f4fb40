"""Load scoring's numba kernels ahead of use, so a caller can pay numba's start-up while it does other work.

The first call of a numba function in a process loads numba's registries and the function's cached machine code
(0.4-0.7 s, all Python, before a single signal is scored). :func:`warm_up` runs :func:`engine.score.run_scoring` on
two made-up signals over a 40-session, two-column panel laid out as scoring lays out real ones, so every kernel is
loaded with the argument types the real call uses. ``ratingbt score`` starts it in a background thread
(:func:`engine.commands._process.in_background`) while it reads the signals and loads the prices: numba's own
compiler lock makes a real call wait for a load in progress, never load twice. Results of the warm-up are thrown away.
"""

from __future__ import annotations

__all__ = ["warm_up"]


def warm_up() -> None:
    """Score two made-up signals (one bullish, one with a range horizon) on a tiny panel; returns nothing."""
    import numpy as np
    import pandas as pd

    from engine.data.panel import PANEL_FIELDS, Panel, not_loaded
    from engine.score import run_scoring
    from engine.signals.schema import complete_row

    n_sessions = 40
    sessions = pd.bdate_range("2024-01-01", periods=n_sessions).to_numpy(dtype="datetime64[ns]")
    close = np.column_stack([np.linspace(10.0, 12.0, n_sessions), np.linspace(3000.0, 3100.0, n_sessions)])
    close[5, 0] = np.nan  # a missing bar, as in real data
    shape = close.shape
    arrays = {name: not_loaded(shape) for name in PANEL_FIELDS}
    arrays["close"] = close
    panel = Panel(sessions=sessions, codes=np.array(["600000.SH", "000300.SH"], dtype=object),
                  tradable=not_loaded(shape, False), fields=("close",), **arrays)
    rows = [complete_row({"signal_id": f"warm-{i}", "broker": "warm-up", "report_date": pd.Timestamp(sessions[3 + i]),
                          "code": "600000.SH", "market": "A", "kind": "rating", "rating": "买入", "rating_level": 2.0,
                          "horizon_months": horizon, "band_low": 0.15, "band_high": np.nan})
            for i, horizon in enumerate(("1", "1-2"))]
    run_scoring(pd.DataFrame(rows), panel, scale_lookup=lambda broker, market: None)
