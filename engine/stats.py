"""Performance statistics: flat pure functions, one per metric, with explicit ``periods`` (sessions per year).

Conventions
-----------
- Inputs are pandas Series indexed by session date: ``equity`` (portfolio value, account currency), ``returns``
  (simple per-session returns as fractions, ``equity.pct_change()``), ``benchmark_returns`` likewise.
- Every result is a fraction (0.12 = 12 %) or a plain ratio; only :mod:`engine.report` formats numbers.
- ``periods`` = sessions per year of the market, derived from the calendar by :func:`sessions_per_year`
  (about 242 for A-shares, 246 for Hong Kong); the config key ``portfolio.sessions_per_year`` overrides it.
- Risk-free rate ``rf`` is per year (fraction) and converted to per session as ``rf / periods``.
- Definitions match vectorbt's returns accessor (``ddof=1`` standard deviations, annualised alpha as
  ``(1 + mean(r - beta·rb))**periods - 1``, Sortino with the root-mean-square of negative returns); information
  ratio and tracking error are annualised with ``sqrt(periods)``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = [
    "sessions_per_year", "to_returns", "total_return", "annual_return", "volatility", "sharpe", "sortino",
    "max_drawdown", "calmar", "turnover", "costs_paid", "excess_return", "annual_excess_return", "beta", "alpha",
    "tracking_error", "information_ratio", "share_days_beating", "share_months_beating", "summary",
    "yearly_returns", "rolling_window", "rolling_sharpe", "rolling_volatility", "rolling_beta", "drawdown_periods",
]


def sessions_per_year(sessions: pd.DatetimeIndex | np.ndarray) -> float:
    """Average number of sessions per calendar year in ``sessions``.

    Uses the complete calendar years present (first session in the first week of January and last in the last
    week of December); with none, ``(n - 1) / years spanned``. Raises ``ValueError`` with fewer than 2 sessions.
    """
    days = pd.DatetimeIndex(sessions).sort_values()
    if len(days) < 2:
        raise ValueError("need at least 2 sessions to derive sessions per year")
    counts = pd.Series(1, index=days).groupby(days.year).count()
    full = [y for y in counts.index
            if days[days.year == y].min() <= pd.Timestamp(y, 1, 8) and days[days.year == y].max() >= pd.Timestamp(y, 12, 24)]
    if full:
        return float(counts.loc[full].mean())
    span_years = (days[-1] - days[0]).days / 365.25
    return float((len(days) - 1) / span_years)


def to_returns(equity: pd.Series) -> pd.Series:
    """Simple returns per session from an equity (or price) series; the first session is dropped."""
    return equity.pct_change().iloc[1:]


def total_return(equity: pd.Series) -> float:
    """Last over first value minus one."""
    values = equity.dropna()
    return float(values.iloc[-1] / values.iloc[0] - 1.0)


def annual_return(returns: pd.Series, periods: float) -> float:
    """Compound annual growth: ``prod(1 + r) ** (periods / n) - 1`` over the ``n`` sessions."""
    r = returns.dropna()
    if len(r) == 0:
        return float("nan")
    return float(np.prod(1.0 + r.to_numpy()) ** (periods / len(r)) - 1.0)


def volatility(returns: pd.Series, periods: float) -> float:
    """Annualised standard deviation (``ddof=1``) of per-session returns."""
    r = returns.dropna()
    return float(r.std(ddof=1) * math.sqrt(periods)) if len(r) > 1 else float("nan")


def sharpe(returns: pd.Series, periods: float, rf: float = 0.0) -> float:
    """Annualised Sharpe ratio: mean / std (``ddof=1``) of returns in excess of ``rf / periods``, × sqrt(periods)."""
    r = returns.dropna() - rf / periods
    if len(r) < 2:
        return float("nan")
    std = r.std(ddof=1)
    return float(r.mean() / std * math.sqrt(periods)) if std > 0 else float("inf")


def sortino(returns: pd.Series, periods: float, rf: float = 0.0) -> float:
    """Annualised Sortino ratio: mean excess return × periods over the downside deviation
    ``sqrt(mean(min(r - rf/periods, 0)²)) × sqrt(periods)``."""
    r = returns.dropna() - rf / periods
    if len(r) < 2:
        return float("nan")
    downside = math.sqrt(float(np.mean(np.minimum(r.to_numpy(), 0.0) ** 2))) * math.sqrt(periods)
    return float(r.mean() * periods / downside) if downside > 0 else float("inf")


def max_drawdown(equity: pd.Series) -> float:
    """Largest peak-to-trough fall as a negative fraction (0 when the curve never falls)."""
    values = equity.dropna()
    return float((values / values.cummax() - 1.0).min())


def calmar(returns: pd.Series, equity: pd.Series, periods: float) -> float:
    """Annual return over the absolute max drawdown (NaN when there is no drawdown)."""
    mdd = max_drawdown(equity)
    return float(annual_return(returns, periods) / abs(mdd)) if mdd < 0 else float("nan")


def turnover(traded_value: pd.Series, equity: pd.Series, periods: float) -> float:
    """Annualised one-way turnover: (total traded value / 2) / mean equity / years (1.0 = the book once a year)."""
    years = max(len(equity) - 1, 1) / periods
    return float(traded_value.sum() / 2.0 / equity.mean() / years)


def costs_paid(fees: pd.Series, equity: pd.Series | None = None) -> float:
    """Total costs paid (account currency); with ``equity``, as a fraction of the starting value."""
    total = float(fees.sum())
    return total / float(equity.dropna().iloc[0]) if equity is not None else total


def excess_return(equity: pd.Series, benchmark: pd.Series) -> float:
    """Total return minus the benchmark's total return over the same sessions (simple difference)."""
    both = pd.concat([equity, benchmark], axis=1).dropna()
    return total_return(both.iloc[:, 0]) - total_return(both.iloc[:, 1])


def annual_excess_return(returns: pd.Series, benchmark_returns: pd.Series, periods: float) -> float:
    """Annual return minus the benchmark's annual return over the sessions both have."""
    both = pd.concat([returns, benchmark_returns], axis=1).dropna()
    return annual_return(both.iloc[:, 0], periods) - annual_return(both.iloc[:, 1], periods)


def _aligned(returns: pd.Series, benchmark_returns: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    both = pd.concat([returns, benchmark_returns], axis=1).dropna()
    return both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()


def beta(returns: pd.Series, benchmark_returns: pd.Series) -> float:
    """Covariance with the benchmark over the benchmark's variance (population moments, sessions both have)."""
    r, b = _aligned(returns, benchmark_returns)
    if len(r) < 2:
        return float("nan")
    var = float(np.mean((b - b.mean()) ** 2))
    return float(np.mean((b - b.mean()) * r) / var) if var > 1e-30 else float("nan")


def alpha(returns: pd.Series, benchmark_returns: pd.Series, periods: float, rf: float = 0.0) -> float:
    """Annualised Jensen alpha: ``(1 + mean(r - rf' - beta (rb - rf'))) ** periods - 1`` with ``rf' = rf/periods``."""
    r, b = _aligned(returns, benchmark_returns)
    if len(r) < 2:
        return float("nan")
    k = beta(returns, benchmark_returns)
    per = rf / periods
    return float((np.mean((r - per) - k * (b - per)) + 1.0) ** periods - 1.0)


def tracking_error(returns: pd.Series, benchmark_returns: pd.Series, periods: float) -> float:
    """Annualised standard deviation (``ddof=1``) of the active return ``r - rb``."""
    r, b = _aligned(returns, benchmark_returns)
    return float(np.std(r - b, ddof=1) * math.sqrt(periods)) if len(r) > 1 else float("nan")


def information_ratio(returns: pd.Series, benchmark_returns: pd.Series, periods: float) -> float:
    """Annualised information ratio: mean active return × periods over the tracking error."""
    r, b = _aligned(returns, benchmark_returns)
    te = tracking_error(returns, benchmark_returns, periods)
    return float(np.mean(r - b) * periods / te) if te > 0 else float("nan")


def share_days_beating(returns: pd.Series, benchmark_returns: pd.Series) -> float:
    """Fraction of sessions (both known) on which the portfolio return beat the benchmark's."""
    r, b = _aligned(returns, benchmark_returns)
    return float(np.mean(r > b)) if len(r) else float("nan")


def share_months_beating(equity: pd.Series, benchmark: pd.Series) -> float:
    """Fraction of calendar months in which the portfolio's return beat the benchmark's (month-end to month-end;
    the first month runs from the first session)."""
    both = pd.concat([equity, benchmark], axis=1).dropna()
    if len(both) < 2:
        return float("nan")
    month_end = both.groupby(both.index.to_period("M")).last()
    start = both.iloc[[0]].set_axis(pd.PeriodIndex([both.index[0].to_period("M") - 1]))
    monthly = pd.concat([start, month_end]).pct_change().iloc[1:]
    return float((monthly.iloc[:, 0] > monthly.iloc[:, 1]).mean())


def summary(equity: pd.Series, benchmark: pd.Series | None, fees: pd.Series, traded_value: pd.Series,
            periods: float, rf: float = 0.0) -> dict[str, float]:
    """Every metric above in one dict (fractions; ``periods`` sessions per year). Benchmark keys are NaN without one."""
    returns = to_returns(equity)
    out = {
        "start_value": float(equity.iloc[0]),
        "end_value": float(equity.iloc[-1]),
        "total_return": total_return(equity),
        "annual_return": annual_return(returns, periods),
        "volatility": volatility(returns, periods),
        "sharpe": sharpe(returns, periods, rf),
        "sortino": sortino(returns, periods, rf),
        "max_drawdown": max_drawdown(equity),
        "calmar": calmar(returns, equity, periods),
        "turnover": turnover(traded_value, equity, periods),
        "costs_paid": costs_paid(fees),
        "costs_paid_fraction": costs_paid(fees, equity),
        "sessions_per_year": float(periods),
    }
    keys = ["benchmark_total_return", "excess_return", "annual_excess_return", "alpha", "beta",
            "information_ratio", "tracking_error", "share_days_beating", "share_months_beating"]
    if benchmark is None or benchmark.dropna().empty:
        out.update({k: float("nan") for k in keys})
        return out
    bench_returns = to_returns(benchmark)
    out.update({
        "benchmark_total_return": total_return(benchmark),
        "excess_return": excess_return(equity, benchmark),
        "annual_excess_return": annual_excess_return(returns, bench_returns, periods),
        "alpha": alpha(returns, bench_returns, periods, rf),
        "beta": beta(returns, bench_returns),
        "information_ratio": information_ratio(returns, bench_returns, periods),
        "tracking_error": tracking_error(returns, bench_returns, periods),
        "share_days_beating": share_days_beating(returns, bench_returns),
        "share_months_beating": share_months_beating(equity, benchmark),
    })
    return out


# ---- tear-sheet statistics (report): yearly returns, rolling 6-month windows, worst drawdowns ----------------------

def yearly_returns(equity: pd.Series) -> pd.Series:
    """Calendar-year returns of a value series (fractions), indexed by year: each year's last value over the
    previous year's last value, minus one; the first year runs from the first value (a partial year is a partial
    return, not annualised)."""
    values = equity.dropna()
    if values.empty:
        return pd.Series(dtype=float)
    year_end = values.groupby(values.index.year).last()
    previous = year_end.shift(1)
    previous.iloc[0] = values.iloc[0]
    out = year_end / previous - 1.0
    out.index.name = "year"
    return out.astype(float)


def rolling_window(periods: float, months: float = 6.0) -> int:
    """Sessions in a rolling window of ``months`` calendar months: ``round(periods * months / 12)`` (126 for
    ``periods`` = 252 and 6 months), at least 2."""
    return max(2, int(round(periods * months / 12.0)))


def rolling_volatility(returns: pd.Series, window: int, periods: float) -> pd.Series:
    """Annualised volatility over the trailing ``window`` sessions: rolling std (``ddof=1``) × sqrt(periods); NaN
    until a full window is available."""
    return returns.rolling(window, min_periods=window).std(ddof=1) * math.sqrt(periods)


def rolling_sharpe(returns: pd.Series, window: int, periods: float, rf: float = 0.0) -> pd.Series:
    """Annualised Sharpe ratio over the trailing ``window`` sessions (as :func:`sharpe`: mean / std ``ddof=1`` of
    returns in excess of ``rf / periods``, × sqrt(periods)); NaN until a full window, or where the std is 0."""
    excess = returns - rf / periods
    roll = excess.rolling(window, min_periods=window)
    std = roll.std(ddof=1)
    return (roll.mean() / std.where(std > 0) * math.sqrt(periods)).astype(float)


def rolling_beta(returns: pd.Series, benchmark_returns: pd.Series, window: int) -> pd.Series:
    """Beta to the benchmark over the trailing ``window`` sessions: rolling cov(r, rb) / var(rb) (same moments as
    :func:`beta`), on the sessions both have; NaN until a full window or where the benchmark did not move."""
    both = pd.concat([returns, benchmark_returns], axis=1, keys=["r", "b"]).dropna()
    cov = both["r"].rolling(window, min_periods=window).cov(both["b"], ddof=0)
    var = both["b"].rolling(window, min_periods=window).var(ddof=0)
    return (cov / var.where(var > 1e-30)).reindex(returns.index)


def drawdown_periods(equity: pd.Series, top: int = 5) -> pd.DataFrame:
    """The ``top`` deepest drawdowns of a value series, deepest first (quantstats' drawdown details).

    A drawdown starts at a running peak (``peak``: the last session at the peak value), reaches its lowest value
    (``valley``) and ends when the series first gets back to the peak (``recovery``; NaT when it has not yet).
    Columns: ``peak``, ``valley``, ``recovery`` (dates), ``depth`` (valley / peak − 1, a negative fraction),
    ``sessions`` (from peak to recovery, or to the last session while still under water), ``recovered`` (bool)."""
    columns = ["peak", "valley", "recovery", "depth", "sessions", "recovered"]
    values = equity.dropna()
    if len(values) < 2:
        return pd.DataFrame(columns=columns)
    running = values.cummax()
    under = (values < running).to_numpy()
    dates = values.index
    rows = []
    i, n = 0, len(values)
    while i < n:
        if not under[i]:
            i += 1
            continue
        start = i - 1  # the peak session: the last one not under water
        j = i
        while j < n and under[j]:
            j += 1
        segment = values.iloc[i:j]
        valley = segment.idxmin()
        recovered = j < n
        rows.append({"peak": dates[start], "valley": valley, "recovery": dates[j] if recovered else pd.NaT,
                     "depth": float(segment.min() / values.iloc[start] - 1.0),
                     "sessions": int((j if recovered else n - 1) - start), "recovered": bool(recovered)})
        i = j
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values("depth", kind="stable").head(top).reset_index(drop=True)
