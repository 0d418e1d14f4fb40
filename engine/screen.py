"""Screen live picks: every rating still inside its horizon at an as-of date, and how it is doing so far.

One public function, :func:`screen_signals`, turns a signals table (:mod:`engine.signals.schema`) and a price
:class:`~engine.data.panel.Panel` into the screen table (one row per live rating). The algorithm:

1. Keep rated rows (``kind == "rating"`` with a ``report_date``) published on or before the as-of date (no
   look-ahead: a report published after ``as_of`` is invisible). ``as_of`` defaults to the last session with
   any price in the panel.
2. Horizon end (:func:`horizon_end_date`): ``report_date`` + ``horizon_months`` calendar months; a range such as
   ``"6-12"`` uses its *long* end, so a pick counts as live until its latest possible end. A rating is live when
   ``as_of <= horizon_end``.
3. Supersession: per (broker, code), the newest rating published by ``as_of`` is current; older ones are marked
   ``superseded`` and dropped unless ``include_superseded``.
4. Coverage: ``n_brokers`` = brokers with a current live rating on the code; ``consensus_level`` = mean of their
   ``rating_level`` (+2 most bullish … −2 most bearish).
5. Returns so far (:func:`returns_so_far`): base = adjusted close of the publication date, or of the last session
   before it; "now" = the last adjusted close on or before ``as_of``; benchmark (``benchmark`` column, else CSI 300
   ``000300.SH`` for A-shares / ``HSI`` for HK) over the *same two dates*; excess = stock − benchmark return.
6. Band status: ``inside`` when ``band_low <= excess < band_high`` (NaN = open end), ``above`` / ``below``
   otherwise; ``excess_needed`` = ``band_low − excess`` when below (else 0).
7. Notes: ``no price data`` (the code has no close on or before ``as_of`` / at the base),
   ``stale (last price YYYY-MM-DD)`` when the stock's last close is older than ``as_of``; such picks are listed,
   never dropped.

Units: returns and bands are fractions (0.15 = 15 %); prices are raw traded prices in the pick's currency (CNY for
A-shares, HKD for HK); dates are exchange-local calendar dates at midnight.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

import numpy as np
import pandas as pd

from engine.data.panel import Panel
from engine.signals.schema import coerce_signals
from engine.symbols import SymbolError, default_benchmark, parse_symbol

__all__ = [
    "SCREEN_COLUMNS",
    "screen_signals",
    "horizon_end_date",
    "horizon_long_months",
    "returns_so_far",
    "band_status",
    "last_price_date",
]

#: Columns of the screen table, in order (see the README section "Screening" for meanings and units).
SCREEN_COLUMNS: list[str] = [
    "code", "name", "market", "broker", "rating", "rating_level", "band_low", "band_high", "benchmark",
    "report_date", "date_inferred", "horizon_months", "horizon_end", "base_date", "price_date",
    "sessions_elapsed", "sessions_left", "price_then", "price_now", "currency",
    "stock_return", "benchmark_return", "excess_return", "status", "excess_needed",
    "target_price", "upside_left", "n_brokers", "consensus_level", "superseded", "note", "signal_id",
]

_HORIZON_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:[-~～–—至到]\s*(\d+(?:\.\d+)?))?\s*$")


def horizon_long_months(horizon: str | float | int) -> int:
    """The long end of a horizon in whole months: ``"12"`` → 12, ``"6-12"`` → 12, ``6.0`` → 6.

    Raises ``ValueError`` quoting the text when it is neither a number nor a ``"a-b"`` range.
    """
    text = str(horizon).strip()
    match = _HORIZON_RE.match(text)
    if not match:
        raise ValueError(f"horizon_months {text!r} is not a number of months or a range like '6-12'")
    values = [float(g) for g in match.groups() if g is not None]
    return int(round(max(values)))


def horizon_end_date(report_date: pd.Timestamp, horizon: str | float | int) -> pd.Timestamp:
    """Calendar date at which a rating's horizon ends: ``report_date`` + long-end months (month-end clipped)."""
    return pd.Timestamp(report_date) + pd.DateOffset(months=horizon_long_months(horizon))


@lru_cache(maxsize=4)
def _calendar_sessions(market: str) -> tuple[pd.DatetimeIndex, pd.Timestamp]:
    """Exchange sessions (XSHG for A-shares, XHKG for HK) and the calendar's last session."""
    import warnings

    import exchange_calendars as xcals

    with warnings.catch_warnings():  # exchange_calendars 4.13 trips a pandas 3.1 deprecation on construction
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar("XHKG" if market == "HK" else "XSHG")
    sessions = pd.DatetimeIndex(cal.sessions).tz_localize(None)
    return sessions, sessions[-1]


def _count_sessions(market: str, after: pd.Timestamp, through: pd.Timestamp) -> int:
    """Sessions in ``(after, through]`` on the market's exchange calendar.

    Past the calendar's last year (XSHG stops at 2026-12-31) weekdays are counted instead, an estimate that ignores
    holidays (documented in the README).
    """
    if pd.isna(after) or pd.isna(through) or through <= after:
        return 0
    sessions, last = _calendar_sessions(market)
    count = int(((sessions > after) & (sessions <= through)).sum())
    if through > last:
        start = max(after, last)
        count += int(np.busday_count((start + pd.Timedelta(days=1)).date(), (through + pd.Timedelta(days=1)).date()))
    return count


def _last_valid_index(values: np.ndarray, upto: int) -> int:
    """Index of the last finite value in ``values[: upto + 1]``, or -1."""
    if upto < 0:
        return -1
    finite = np.flatnonzero(np.isfinite(values[: upto + 1]))
    return int(finite[-1]) if len(finite) else -1


def last_price_date(panel: Panel) -> pd.Timestamp | None:
    """The last session at which any column of ``panel`` has a close (the default as-of date), or None."""
    if panel.close.size == 0:
        return None
    rows = np.flatnonzero(np.isfinite(panel.close).any(axis=1))
    return pd.Timestamp(panel.sessions[rows[-1]]) if len(rows) else None


def returns_so_far(panel: Panel, code: str, benchmark: str, report_date: pd.Timestamp,
                   as_of: pd.Timestamp) -> dict[str, object]:
    """Stock, benchmark and excess return of one pick from its base close to the last close on or before ``as_of``.

    Conventions (the scoring stage's): base = adjusted close of ``report_date`` or of the last session before it
    with a close; end = the stock's last adjusted close on or before ``as_of`` (``price_date``); the benchmark level
    is read on or before the same two dates, so both returns cover the same window. Returns fractions.
    ``note`` is ``"no price data"`` when the stock or its benchmark has no usable close, else ``""``.

    TODO(score branch): once ``engine.score`` is merged, swap this for its per-signal return helper so the screen
    and the scorecard share one implementation; keep ``tests/screen/test_screen.py::test_returns_so_far_hand``.
    """
    out: dict[str, object] = {
        "base_date": pd.NaT, "price_date": pd.NaT, "price_then": np.nan, "price_now": np.nan,
        "stock_return": np.nan, "benchmark_return": np.nan, "excess_return": np.nan, "note": "no price data",
    }
    if code not in set(panel.codes) or benchmark not in set(panel.codes):
        return out
    sessions = pd.DatetimeIndex(panel.sessions)
    j, b = panel.column(code), panel.column(benchmark)
    i_base = int(sessions.searchsorted(pd.Timestamp(report_date), side="right")) - 1
    i_now = int(sessions.searchsorted(pd.Timestamp(as_of), side="right")) - 1
    base = _last_valid_index(panel.close[:, j], i_base)
    now = _last_valid_index(panel.close[:, j], i_now)
    if base < 0 or now < 0:
        return out
    bench_base = _last_valid_index(panel.close[:, b], base)
    bench_now = _last_valid_index(panel.close[:, b], now)
    if bench_base < 0 or bench_now < 0:
        return out
    stock_return = panel.close[now, j] / panel.close[base, j] - 1.0
    benchmark_return = panel.close[bench_now, b] / panel.close[bench_base, b] - 1.0
    out.update(
        base_date=sessions[base], price_date=sessions[now],
        price_then=float(panel.raw_close[base, j]), price_now=float(panel.raw_close[now, j]),
        stock_return=float(stock_return), benchmark_return=float(benchmark_return),
        excess_return=float(stock_return - benchmark_return), note="",
    )
    return out


def band_status(excess_return: float, band_low: float, band_high: float) -> tuple[str, float]:
    """Status of an excess return against a band ``[band_low, band_high)`` (NaN = open end) and the excess needed.

    Returns ``("inside" | "above" | "below" | "", excess_needed)``; ``excess_needed`` = ``band_low − excess`` when
    below, ``0.0`` when inside or above, NaN when the excess is unknown. Fractions in, fractions out.
    """
    if not np.isfinite(excess_return):
        return "", np.nan
    if np.isfinite(band_low) and excess_return < band_low:
        return "below", float(band_low - excess_return)
    if np.isfinite(band_high) and excess_return >= band_high:
        return "above", 0.0
    return "inside", 0.0


def _benchmark_for(row: pd.Series) -> str:
    if row["benchmark"]:
        return str(row["benchmark"])
    try:
        return default_benchmark(row["code"])
    except (SymbolError, ValueError, KeyError):
        return ""


def _market_for(row: pd.Series) -> str:
    if row["market"]:
        return str(row["market"])
    try:
        return parse_symbol(row["code"]).market.value
    except (SymbolError, ValueError):
        return ""


def screen_signals(
    signals: pd.DataFrame,
    panel: Panel,
    *,
    as_of: str | pd.Timestamp | None = None,
    include_superseded: bool = False,
    brokers: Iterable[str] | None = None,
    markets: Iterable[str] | None = None,
    sort: str | None = None,
    descending: bool = False,
) -> pd.DataFrame:
    """The screen table (columns :data:`SCREEN_COLUMNS`) of ratings still inside their horizon at ``as_of``.

    ``signals``: a signals table (coerced with :func:`~engine.signals.schema.coerce_signals`). ``panel``: prices
    holding the picks and their benchmarks (missing codes are reported as ``no price data``). ``as_of``: defaults to
    the last session with any price (:func:`last_price_date`). ``brokers`` / ``markets`` filter the rows shown
    (``markets`` in ``{"A", "HK"}``); coverage and consensus are computed before filtering. ``sort``: a column of
    the screen table (default: newest report first, then broker and code). Raises ``ValueError`` naming an unknown sort column or a bad horizon
    (with its ``signal_id``). See the module docstring for the steps and conventions.
    """
    if sort is not None and sort not in SCREEN_COLUMNS:
        raise ValueError(f"unknown sort column {sort!r}; choose one of: {', '.join(SCREEN_COLUMNS)}")
    sig = coerce_signals(signals)
    if as_of is None:
        as_of_ts = last_price_date(panel)
        if as_of_ts is None:
            raise ValueError("as_of not given and the price panel holds no prices: pass --as-of DATE")
    else:
        as_of_ts = pd.Timestamp(as_of).normalize()

    sig = sig[(sig["kind"] == "rating") & sig["report_date"].notna() & (sig["code"] != "")]
    sig = sig[sig["report_date"] <= as_of_ts].copy()
    if sig.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SCREEN_COLUMNS})

    ends = []
    for sid, rd, hz in zip(sig["signal_id"], sig["report_date"], sig["horizon_months"]):
        try:
            ends.append(horizon_end_date(rd, hz))
        except ValueError as exc:
            raise ValueError(f"signal {sid or '?'}: {exc}") from None
    sig["horizon_end"] = ends

    # 3. newest rating per (broker, code) published by as_of is current; the rest are superseded.
    sig = sig.sort_values(["broker", "code", "report_date"], kind="stable")
    newest = sig.groupby(["broker", "code"], sort=False)["report_date"].transform("max")
    sig["superseded"] = sig["report_date"] < newest
    sig = sig[sig["horizon_end"] >= as_of_ts]

    current = sig[~sig["superseded"]]
    coverage = current.groupby("code").agg(n_brokers=("broker", "nunique"),
                                           consensus_level=("rating_level", "mean"))
    if not include_superseded:
        sig = sig[~sig["superseded"]]
    if brokers:
        sig = sig[sig["broker"].isin(list(brokers))]
    if markets:
        sig = sig.assign(market=[_market_for(r) for _, r in sig.iterrows()])
        sig = sig[sig["market"].isin(list(markets))]

    rows = []
    for _, row in sig.iterrows():
        benchmark = _benchmark_for(row)
        market = _market_for(row)
        got = returns_so_far(panel, row["code"], benchmark, row["report_date"], as_of_ts)
        note = str(got["note"])
        if not note and got["price_date"] < as_of_ts:
            note = f"stale (last price {got['price_date']:%Y-%m-%d})"
        if not np.isfinite(got["price_then"]) and np.isfinite(row["price_at_report"]) and not note.startswith("no"):
            got["price_then"] = float(row["price_at_report"])  # raw close unknown at base: the report's quote
        status, needed = band_status(got["excess_return"], row["band_low"], row["band_high"])
        cov = coverage.loc[row["code"]] if row["code"] in coverage.index else None
        upside = (row["target_price"] / got["price_now"] - 1.0
                  if np.isfinite(row["target_price"]) and np.isfinite(got["price_now"]) else np.nan)
        elapsed_from = got["base_date"] if pd.notna(got["base_date"]) else row["report_date"]
        rows.append({
            "code": row["code"], "name": row["name"], "market": market, "broker": row["broker"],
            "rating": row["rating"], "rating_level": row["rating_level"],
            "band_low": row["band_low"], "band_high": row["band_high"], "benchmark": benchmark,
            "report_date": row["report_date"], "date_inferred": bool(row["date_inferred"]),
            "horizon_months": row["horizon_months"], "horizon_end": row["horizon_end"],
            "base_date": got["base_date"], "price_date": got["price_date"],
            "sessions_elapsed": _count_sessions(market, elapsed_from, as_of_ts),
            "sessions_left": _count_sessions(market, as_of_ts, row["horizon_end"]),
            "price_then": got["price_then"], "price_now": got["price_now"], "currency": row["currency"],
            "stock_return": got["stock_return"], "benchmark_return": got["benchmark_return"],
            "excess_return": got["excess_return"], "status": status, "excess_needed": needed,
            "target_price": row["target_price"], "upside_left": upside,
            "n_brokers": int(cov["n_brokers"]) if cov is not None else 0,
            "consensus_level": float(cov["consensus_level"]) if cov is not None else np.nan,
            "superseded": bool(row["superseded"]), "note": note, "signal_id": row["signal_id"],
        })
    out = pd.DataFrame(rows, columns=SCREEN_COLUMNS)
    if sort is None:
        out = out.sort_values(["report_date", "broker", "code"], ascending=[False, True, True], kind="stable")
    else:
        out = out.sort_values(sort, ascending=not descending, kind="stable", na_position="last")
    return out.reset_index(drop=True)
