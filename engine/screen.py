"""Screen live picks: every rating still inside its horizon at an as-of date, and how it is doing so far.

One public function, :func:`screen_signals`, turns a signals table (:mod:`engine.signals.schema`) and a price
:class:`~engine.data.panel.Panel` into the screen table (one row per live rating). The algorithm:

1. Keep rated rows (``kind == "rating"`` with a ``report_date``) published on or before the as-of date (no
   look-ahead: a report published after ``as_of`` is invisible). ``as_of`` defaults to the last session at which
   a rated stock has a price while its rating is live (:func:`default_as_of`; an index series such as the HSI
   that runs on later does not move it).
2. Horizon end (:func:`horizon_end_date`): ``report_date`` + ``horizon_months`` calendar months; a range such as
   ``"6-12"`` uses its *long* end, so a pick counts as live until its latest possible end. A rating is live when
   ``as_of <= horizon_end``. No horizon → :data:`DEFAULT_HORIZON_MONTHS` with a note; an unreadable one → listed
   with an empty ``horizon_end`` and a note quoting it.
3. Supersession: per (broker, code), the newest rating published by ``as_of`` is current; older ones are marked
   ``superseded`` and dropped unless ``include_superseded``.
4. Coverage: ``n_brokers`` = brokers with a current live rating on the code; ``consensus_level`` = mean of their
   ``rating_level`` (+2 most bullish … −2 most bearish).
5. Returns so far (:func:`returns_so_far_arrays`, the scoring kernel ``forward_returns_nb`` with the horizon end
   set to ``as_of``): base session = the last session on or before the publication date, each series valued at
   its last adjusted close on or before it; end = ``as_of``'s session, or "so far" up to the last session that both
   the stock and its benchmark (``benchmark`` column, else CSI 300 ``000300.SH`` for A-shares / ``HSI`` for HK)
   have reached; excess = stock − benchmark return.
6. Band status: ``inside`` when ``band_low <= excess <= band_high`` (NaN = open end), ``above`` / ``below``
   otherwise; ``excess_needed`` = ``band_low − excess`` when below (else 0).
7. Notes: ``no security code`` (a rating whose stock name the ingest step could not resolve to a code; listed,
   with supersession and coverage keyed by the name), ``no price data`` (the code is not in the panel, has no
   close on or before the base session, or no bar from the base session on; or its benchmark has none), ``stale (last price YYYY-MM-DD)`` when the stock's last
   close is older than the market's last session on or before ``as_of`` (``stale (last benchmark level …)`` when
   the benchmark is the series that stopped); such picks are listed, never dropped.

Every row the screen leaves out is counted by reason in ``table.attrs["dropped"]`` (``mention (no rating)``,
``no report date``, ``published after as-of``, ``horizon ended``, ``superseded``, ``other broker``, ``other
market``) and the date used is ``table.attrs["as_of"]`` (:func:`dropped_summary` words them).

Units: returns and bands are fractions (0.15 = 15 %); prices are raw traded prices in the pick's currency (CNY for
A-shares, HKD for HK); dates are exchange-local calendar dates at midnight.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from engine.data.panel import Panel
from engine.signals.schema import coerce_signals
from engine.symbols import SymbolError, default_benchmark, normalize_symbol, parse_symbol

__all__ = [
    "SCREEN_COLUMNS",
    "screen_signals",
    "horizon_end_date",
    "horizon_long_months",
    "returns_so_far",
    "band_status",
    "band_status_arrays",
    "count_sessions",
    "returns_so_far_arrays",
    "last_price_date",
    "default_as_of",
    "dropped_summary",
    "write_screen",
]

#: Columns of the screen table, in order (see the README section "Screening" for meanings and units).
SCREEN_COLUMNS: list[str] = [
    "code", "name", "market", "broker", "rating", "rating_level", "band_low", "band_high", "benchmark",
    "report_date", "date_inferred", "horizon_months", "horizon_end", "base_date", "price_date",
    "sessions_elapsed", "sessions_left", "price_then", "price_now", "currency",
    "stock_return", "benchmark_return", "excess_return", "status", "excess_needed",
    "target_price", "upside_left", "n_brokers", "consensus_level", "superseded", "note", "signal_id",
]

#: Horizon used when a rating carries none (the scoring stage's ``ScoreConfig.default_horizon_months``).
DEFAULT_HORIZON_MONTHS = 12

def horizon_long_months(horizon: str | float | int) -> int:
    """The long end of a horizon in whole months: ``"12"`` → 12, ``"6-12"`` → 12, ``6.0`` → 6 (parsed by the
    scoring stage's :func:`engine.score.windows.parse_horizon`, so both stages read horizons the same way).

    Raises ``ValueError`` quoting the text when it is neither a number nor a ``"a-b"`` range.
    """
    from engine.score.windows import parse_horizon

    parsed = parse_horizon(horizon)
    if parsed is None:
        raise ValueError(f"horizon_months {horizon!r} is empty")
    return parsed[1]


def horizon_end_date(report_date: pd.Timestamp, horizon: str | float | int) -> pd.Timestamp:
    """Calendar date at which a rating's horizon ends: ``report_date`` + long-end months (month-end clipped)."""
    return pd.Timestamp(report_date) + pd.DateOffset(months=horizon_long_months(horizon))


@lru_cache(maxsize=4)
def _calendar_sessions(market: str) -> tuple[pd.DatetimeIndex, pd.Timestamp]:
    """Exchange sessions (XSHG for A-shares, XHKG for HK) from 2005 to the calendar's end, and its last session
    (:func:`engine.data.calendars.sessions`; nothing past the calendar's holiday data)."""
    from engine.data.calendars import sessions

    grid = sessions("XHKG" if market == "HK" else "XSHG", "2005-01-03", pd.Timestamp.today() + pd.DateOffset(years=5))
    return grid, grid[-1]


def count_sessions(market: str, after: pd.Series | pd.DatetimeIndex, through: pd.Series | pd.DatetimeIndex
                   ) -> np.ndarray:
    """Sessions in ``(after, through]`` on the market's exchange calendar (XSHG for ``"A"``, XHKG for ``"HK"``),
    element-wise; 0 where a date is missing or ``through <= after``.

    Past the calendar's last year (XSHG stops at 2026-12-31) weekdays are counted instead, an estimate that ignores
    holidays (documented in the README).
    """
    sessions, last = _calendar_sessions(market)
    lo = pd.DatetimeIndex(after)
    hi = pd.DatetimeIndex(through)
    valid = ~(lo.isna() | hi.isna())
    lo_filled = lo.where(valid, last).to_numpy(dtype="datetime64[ns]")
    hi_filled = hi.where(valid, last).to_numpy(dtype="datetime64[ns]")
    grid = sessions.to_numpy(dtype="datetime64[ns]")
    count = np.searchsorted(grid, hi_filled, side="right") - np.searchsorted(grid, lo_filled, side="right")
    beyond_lo = np.maximum(lo_filled, last.to_datetime64()).astype("datetime64[D]") + np.timedelta64(1, "D")
    beyond_hi = hi_filled.astype("datetime64[D]") + np.timedelta64(1, "D")
    extra = np.where(hi_filled > last.to_datetime64(), np.busday_count(beyond_lo, np.maximum(beyond_lo, beyond_hi)), 0)
    return np.where(valid & (hi_filled > lo_filled), np.maximum(count, 0) + extra, 0).astype(np.int64)


def last_price_date(panel: Panel) -> pd.Timestamp | None:
    """The last session at which any column of ``panel`` has a close (the default as-of date), or None."""
    if panel.close.size == 0:
        return None
    rows = np.flatnonzero(np.isfinite(panel.close).any(axis=1))
    return pd.Timestamp(panel.sessions[rows[-1]]) if len(rows) else None


def default_as_of(panel: Panel, signals: pd.DataFrame) -> pd.Timestamp | None:
    """The default screen date: the last session at which a rated stock has a price *while its rating is live*
    (published on or before it, horizon not ended), i.e. the latest date at which the screen has a live pick with a
    current price. Index series (benchmarks) never count, so a benchmark running on for months does not push the
    date past every pick. Falls back to the last price of any rated stock, then of any series
    (:func:`last_price_date`).

    ``signals``: a coerced signals table; horizons as in :func:`horizon_end_date` (unreadable or empty ones: open)."""
    rated = signals[(signals["kind"] == "rating") & (signals["code"] != "") & signals["report_date"].notna()]
    column_of = {code: j for j, code in enumerate(panel.codes)}
    rated = rated[rated["code"].isin(list(column_of))]
    if rated.empty:
        return last_price_date(panel)
    sessions = np.asarray(panel.sessions, dtype="datetime64[ns]")
    ends = []
    for horizon, rows in rated.groupby("horizon_months", sort=False).groups.items():
        try:
            months = horizon_long_months(str(horizon)) if str(horizon).strip() else DEFAULT_HORIZON_MONTHS
            ends.append(rated.loc[rows, "report_date"] + pd.DateOffset(months=months))
        except ValueError:
            ends.append(pd.Series(pd.Timestamp(sessions[-1]), index=rows))
    horizon_end = pd.concat(ends).reindex(rated.index).to_numpy(dtype="datetime64[ns]")
    report = rated["report_date"].to_numpy(dtype="datetime64[ns]")
    best: np.datetime64 | None = None
    any_last: np.datetime64 | None = None
    for code, rows in rated.groupby("code", sort=False).indices.items():
        priced = sessions[np.isfinite(panel.close[:, column_of[code]])]
        if not len(priced):
            continue
        any_last = priced[-1] if any_last is None else max(any_last, priced[-1])
        last = np.searchsorted(priced, horizon_end[rows], side="right") - 1
        ok = last >= 0
        dates = priced[np.maximum(last, 0)]
        ok &= dates >= report[rows] - np.timedelta64(BASE_SLACK_DAYS, "D")
        if ok.any():
            top = dates[ok].max()
            best = top if best is None else max(best, top)
    chosen = best if best is not None else any_last
    return pd.Timestamp(chosen) if chosen is not None else last_price_date(panel)


#: A rating published on a holiday is live from its last session before publication (its base close).
BASE_SLACK_DAYS = 10


def dropped_summary(table: pd.DataFrame) -> str:
    """``"left out: 3 horizon ended, 1 published after as-of"`` from ``table.attrs["dropped"]`` (``""`` if none)."""
    dropped = {k: v for k, v in (table.attrs.get("dropped") or {}).items() if v}
    return ("left out: " + ", ".join(f"{v} {k}" for k, v in dropped.items())) if dropped else ""


def returns_so_far_arrays(panel: Panel, stock_col: np.ndarray, bench_col: np.ndarray, base_row: np.ndarray,
                          now_row: int) -> dict[str, np.ndarray]:
    """Vectorised returns so far for many picks, computed by the scoring kernel
    :func:`engine.kernels.forward_returns.forward_returns_nb` on the panel cut after ``now_row`` with the horizon
    end set to ``now_row`` — so the screen and the scorecard share one set of conventions:

    - base: last close on or before ``base_row`` (stock and benchmark separately);
    - end: ``now_row`` when both series have a bar there, else "so far" up to the last session both have;
    - a stock with no bar on or after the base session (``NoPriceSince``), no base price or no benchmark → not ok.

    ``stock_col`` / ``bench_col``: panel columns (-1 = not in the panel); ``base_row``: row of the last session on or
    before each publication date (-1 = before the panel). Returns arrays ``base``, ``now`` (stock rows used),
    ``bench_base``, ``bench_now`` (-1 = none), ``stock_return``, ``benchmark_return``, ``excess_return``
    (fractions, NaN when not ok), ``ok`` (bool) and ``stock_last`` (the stock's last row with a bar up to
    ``now_row``, -1 = none; tells a stale stock from a stale benchmark).
    """
    from engine.enums import WindowStatus
    from engine.kernels.forward_returns import forward_returns_nb, last_bar_index_nb

    n = len(stock_col)
    close = np.asfortranarray(panel.close[: now_row + 1]) if now_row >= 0 else np.empty((0, panel.close.shape[1]))
    last_bar = last_bar_index_nb(close) if len(close) else np.full(panel.close.shape[1], -1, dtype=np.int64)
    in_panel = (stock_col >= 0) & (base_row >= 0) & (now_row >= 0)
    in_panel &= np.where(stock_col >= 0, last_bar[np.maximum(stock_col, 0)] >= 0, False)
    sel = np.flatnonzero(in_panel)
    out = {name: np.full(n, -1, dtype=np.int64) for name in ("base", "now", "bench_base", "bench_now")}
    out.update({name: np.full(n, np.nan) for name in ("stock_return", "benchmark_return", "excess_return")})
    out["ok"] = np.zeros(n, dtype=bool)
    out["stock_last"] = np.where(stock_col >= 0, last_bar[np.maximum(stock_col, 0)], -1)
    if len(sel):
        nan = np.full(len(sel), np.nan)
        res = forward_returns_nb(close, last_bar, stock_col[sel].astype(np.int64), bench_col[sel].astype(np.int64),
                                 base_row[sel].astype(np.int64), np.full(len(sel), now_row, dtype=np.int64),
                                 nan, nan, 0)  # mode 0 = absolute excess r − b
        base, end, bench_base, bench_end, stock_return, bench_return, excess_return = res[:7]
        status = res[10]
        ok = (status == WindowStatus.Complete) | (status == WindowStatus.Incomplete)
        for name, values in (("base", base), ("now", end), ("bench_base", bench_base), ("bench_now", bench_end)):
            out[name][sel] = np.where(ok, values, -1)
        for name, values in (("stock_return", stock_return), ("benchmark_return", bench_return),
                             ("excess_return", excess_return)):
            out[name][sel] = np.where(ok, values, np.nan)
        out["ok"][sel] = ok
    return out


def _row_on_or_before(panel: Panel, dates: pd.Series | pd.DatetimeIndex | pd.Timestamp) -> np.ndarray:
    """Row of the last panel session on or before each date (-1 when before the first session)."""
    stamps = pd.DatetimeIndex(np.atleast_1d(pd.DatetimeIndex(pd.Series(dates))))
    return np.searchsorted(panel.sessions, stamps.to_numpy(dtype="datetime64[ns]"), side="right").astype(np.int64) - 1


def returns_so_far(panel: Panel, code: str, benchmark: str, report_date: pd.Timestamp,
                   as_of: pd.Timestamp) -> dict[str, object]:
    """Stock, benchmark and excess return of one pick from its base close to the last close on or before ``as_of``.

    Conventions (the scoring stage's): base = adjusted close of ``report_date`` or of the last session before it
    with a close; end = the stock's last adjusted close on or before ``as_of`` (``price_date``); the benchmark level
    is read on or before the same two dates, so both returns cover the same window. Returns fractions;
    ``price_then`` / ``price_now`` are the raw closes at those dates. ``note`` is ``"no price data"`` when the stock
    or its benchmark has no usable close, else ``""``.
    """
    codes = list(panel.codes)
    stock_col = np.array([codes.index(code) if code in codes else -1])
    bench_col = np.array([codes.index(benchmark) if benchmark in codes else -1])
    got = returns_so_far_arrays(panel, stock_col, bench_col, _row_on_or_before(panel, pd.Timestamp(report_date)),
                                int(_row_on_or_before(panel, pd.Timestamp(as_of))[0]))
    if not got["ok"][0]:
        return {"base_date": pd.NaT, "price_date": pd.NaT, "price_then": np.nan, "price_now": np.nan,
                "stock_return": np.nan, "benchmark_return": np.nan, "excess_return": np.nan, "note": "no price data"}
    base, now, j = int(got["base"][0]), int(got["now"][0]), int(stock_col[0])
    return {"base_date": pd.Timestamp(panel.sessions[base]), "price_date": pd.Timestamp(panel.sessions[now]),
            "price_then": float(panel.raw_close[base, j]), "price_now": float(panel.raw_close[now, j]),
            "stock_return": float(got["stock_return"][0]), "benchmark_return": float(got["benchmark_return"][0]),
            "excess_return": float(got["excess_return"][0]), "note": ""}


def band_status(excess_return: float, band_low: float, band_high: float) -> tuple[str, float]:
    """Status of an excess return against a band ``[band_low, band_high]`` (NaN = open end) and the excess needed.

    Returns ``("inside" | "above" | "below" | "", excess_needed)``; ``excess_needed`` = ``band_low − excess`` when
    below, ``0.0`` when inside or above, NaN when the excess is unknown. Both ends are inclusive, as in the scoring
    stage's ``hit``. Fractions in, fractions out.
    """
    status, needed = band_status_arrays(np.array([excess_return], dtype=float), np.array([band_low], dtype=float),
                                        np.array([band_high], dtype=float))
    return str(status[0]), float(needed[0])


def band_status_arrays(excess_return: np.ndarray, band_low: np.ndarray, band_high: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Element-wise :func:`band_status`: (status strings as an object array, excess needed as float64)."""
    known = np.isfinite(excess_return)
    below = known & np.isfinite(band_low) & (excess_return < band_low)
    above = known & ~below & np.isfinite(band_high) & (excess_return > band_high)
    status = np.where(~known, "", np.where(below, "below", np.where(above, "above", "inside"))).astype(object)
    needed = np.where(~known, np.nan, np.where(below, band_low - excess_return, 0.0))
    return status, needed


def _benchmark_of(code: str, benchmark: str) -> str:
    """The pick's benchmark: its own ``benchmark`` (normalised) or CSI 300 / HSI by market; ``""`` if unknown."""
    try:
        return normalize_symbol(benchmark) if benchmark else default_benchmark(code)
    except (SymbolError, ValueError):
        return ""


def _market_of(code: str, market: str) -> str:
    if market:
        return market
    try:
        return parse_symbol(code).market.value
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
    the last session at which a live rating's stock has a price (:func:`default_as_of`). ``brokers`` / ``markets`` filter the rows shown
    (``markets`` in ``{"A", "HK"}``); coverage and consensus are computed before filtering. ``sort``: a column of
    the screen table (default: newest report first, then broker and code). Raises ``ValueError`` naming an unknown
    sort column. See the module docstring for the steps and conventions.
    """
    if sort is not None and sort not in SCREEN_COLUMNS:
        raise ValueError(f"unknown sort column {sort!r}; choose one of: {', '.join(SCREEN_COLUMNS)}")
    sig = coerce_signals(signals)
    dropped: dict[str, int] = {}

    def keep(mask: pd.Series, reason: str) -> pd.DataFrame:
        dropped[reason] = dropped.get(reason, 0) + int((~mask).sum())
        return sig[mask]

    if as_of is None:
        as_of_ts = default_as_of(panel, sig)
        if as_of_ts is None:
            raise ValueError("as_of not given and the price panel holds no prices: pass --as-of DATE")
    else:
        as_of_ts = pd.Timestamp(as_of).normalize()

    def empty() -> pd.DataFrame:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in SCREEN_COLUMNS})
        out.attrs.update(as_of=as_of_ts, dropped=dropped)
        return out

    sig = keep(sig["kind"] == "rating", "mention (no rating)")
    sig = keep(sig["report_date"].notna(), "no report date")
    sig = keep(sig["report_date"] <= as_of_ts, "published after as-of").copy()
    # the stock's identity: its code, or its name when the ingest step could not resolve a code (such a pick is
    # listed with the note "no security code", never dropped)
    sig["stock_key"] = sig["code"].where(sig["code"] != "", "name:" + sig["name"].astype(str))
    if sig.empty:
        return empty()

    # 2. horizon end = report date + long-end months (one DateOffset per distinct horizon). An empty horizon uses
    #    the scoring stage's default (12 months) and says so; an unreadable one keeps the pick listed (never
    #    dropped) with no horizon end and a note naming the text.
    sig["horizon_end"] = pd.NaT
    sig["horizon_note"] = ""
    for horizon, rows in sig.groupby("horizon_months", sort=False).groups.items():
        text = str(horizon).strip()
        if not text:
            months = DEFAULT_HORIZON_MONTHS
            sig.loc[rows, "horizon_note"] = f"horizon unknown: {months} months assumed"
        else:
            try:
                months = horizon_long_months(text)
            except ValueError:
                sig.loc[rows, "horizon_note"] = f"horizon {text!r} not understood"
                continue
        sig.loc[rows, "horizon_end"] = sig.loc[rows, "report_date"] + pd.DateOffset(months=months)
    sig["horizon_end"] = pd.to_datetime(sig["horizon_end"])

    # 3. newest rating per (broker, code) published by as_of is current; the rest are superseded.
    newest = sig.groupby(["broker", "stock_key"], sort=False)["report_date"].transform("max")
    sig["superseded"] = sig["report_date"] < newest
    sig = keep(sig["horizon_end"].isna() | (sig["horizon_end"] >= as_of_ts), "horizon ended")

    # 4. coverage and consensus over current live ratings (before the display filters)
    current = sig[~sig["superseded"]]
    coverage = current.groupby("stock_key").agg(n_brokers=("broker", "nunique"), consensus_level=("rating_level", "mean"))
    if not include_superseded:
        sig = keep(~sig["superseded"], "superseded")
    pairs = pd.MultiIndex.from_arrays([sig["code"].to_numpy(object), sig["market"].to_numpy(object),
                                       sig["benchmark"].to_numpy(object)])
    distinct = pairs.unique()  # parse each distinct (code, market, benchmark) once
    market_of = {p: _market_of(p[0], p[1]) for p in distinct}
    benchmark_of = {p: _benchmark_of(p[0], p[2]) for p in distinct}
    sig = sig.assign(market=pairs.map(market_of.__getitem__).to_numpy(object),
                     benchmark=pairs.map(benchmark_of.__getitem__).to_numpy(object))
    if brokers:
        sig = keep(sig["broker"].isin(list(brokers)), "other broker")
    if markets:
        sig = keep(sig["market"].isin(list(markets)), "other market")
    sig = sig.reset_index(drop=True)
    if sig.empty:
        return empty()

    # 5. returns so far on the panel
    column_of = {code: j for j, code in enumerate(panel.codes)}
    stock_col = np.array([column_of.get(c, -1) for c in sig["code"]], dtype=np.int64)
    bench_col = np.array([column_of.get(b, -1) for b in sig["benchmark"]], dtype=np.int64)
    now_row = int(_row_on_or_before(panel, as_of_ts)[0])
    got = returns_so_far_arrays(panel, stock_col, bench_col, _row_on_or_before(panel, sig["report_date"]), now_row)
    ok = got["ok"]
    sessions = pd.DatetimeIndex(panel.sessions)
    base_date = pd.DatetimeIndex(np.where(ok, sessions.to_numpy()[np.maximum(got["base"], 0)], np.datetime64("NaT")))
    price_date = pd.DatetimeIndex(np.where(ok, sessions.to_numpy()[np.maximum(got["now"], 0)], np.datetime64("NaT")))
    safe_col = np.maximum(stock_col, 0)
    price_then = np.where(ok, panel.raw_close[np.maximum(got["base"], 0), safe_col], np.nan)
    price_now = np.where(ok, panel.raw_close[np.maximum(got["now"], 0), safe_col], np.nan)
    quoted = sig["price_at_report"].to_numpy(dtype=float)
    price_then = np.where(ok & ~np.isfinite(price_then), quoted, price_then)  # raw close unknown: the report's quote

    # 6. band status; 7. notes
    status, needed = band_status_arrays(got["excess_return"], sig["band_low"].to_numpy(float),
                                        sig["band_high"].to_numpy(float))
    # stale = the last price is older than the market's last session on or before as_of (so a weekend or a
    # mainland holiday as-of date, or an HK-only session of a combined A+H panel, does not flag A-shares)
    expected = pd.Series(pd.Timestamp(sessions[now_row]) if now_row >= 0 else as_of_ts, index=sig.index)
    for market in pd.unique(sig["market"]):
        grid, last = _calendar_sessions("HK" if market == "HK" else "A")
        if as_of_ts <= last:
            expected[sig["market"] == market] = grid[grid.searchsorted(as_of_ts, side="right") - 1]
    stale = ok & (price_date < pd.DatetimeIndex(expected))
    stock_current = got["stock_last"] >= now_row  # the stock has a bar at as-of: the benchmark is the stale one
    stale_text = np.where(stock_current, "stale (last benchmark level ", "stale (last price ")
    no_code = (sig["code"] == "").to_numpy()
    price_note = np.where(no_code, "no security code", np.where(~ok, "no price data",
                          np.where(stale, stale_text + price_date.strftime("%Y-%m-%d").fillna("") + ")", "")))
    note = np.array(["; ".join(part for part in pair if part)
                     for pair in zip(price_note, sig["horizon_note"].to_numpy(object))], dtype=object)
    target = sig["target_price"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        upside = target / price_now - 1.0
    elapsed = np.zeros(len(sig), dtype=np.int64)
    left = np.zeros(len(sig), dtype=np.int64)
    start = pd.Series(base_date).fillna(sig["report_date"])
    for market, rows in sig.groupby("market").groups.items():
        cal = "HK" if market == "HK" else "A"
        elapsed[rows] = count_sessions(cal, start.loc[rows], pd.Series(as_of_ts, index=rows))
        left[rows] = count_sessions(cal, pd.Series(as_of_ts, index=rows), sig.loc[rows, "horizon_end"])

    out = pd.DataFrame({
        "code": sig["code"], "name": sig["name"], "market": sig["market"], "broker": sig["broker"],
        "rating": sig["rating"], "rating_level": sig["rating_level"], "band_low": sig["band_low"],
        "band_high": sig["band_high"], "benchmark": sig["benchmark"], "report_date": sig["report_date"],
        "date_inferred": sig["date_inferred"].astype(bool), "horizon_months": sig["horizon_months"],
        "horizon_end": sig["horizon_end"], "base_date": base_date, "price_date": price_date,
        "sessions_elapsed": elapsed, "sessions_left": left, "price_then": price_then, "price_now": price_now,
        "currency": sig["currency"], "stock_return": got["stock_return"], "benchmark_return": got["benchmark_return"],
        "excess_return": got["excess_return"], "status": status, "excess_needed": needed,
        "target_price": target, "upside_left": upside,
        "n_brokers": sig["stock_key"].map(coverage["n_brokers"]).fillna(0).astype(np.int64),
        "consensus_level": sig["stock_key"].map(coverage["consensus_level"]).astype(float),
        "superseded": sig["superseded"].astype(bool), "note": note.astype(object), "signal_id": sig["signal_id"],
    }, columns=SCREEN_COLUMNS)
    if sort is None:
        out = out.sort_values(["report_date", "broker", "code"], ascending=[False, True, True], kind="stable")
    else:
        out = out.sort_values(sort, ascending=not descending, kind="stable", na_position="last")
    out = out.reset_index(drop=True)
    out.attrs.update(as_of=as_of_ts, dropped=dropped)
    return out


def write_screen(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the screen table (all :data:`SCREEN_COLUMNS`, fractions, ISO dates) as ``.csv`` or ``.json``
    (records, UTF-8); raises ``ValueError`` naming the path for another suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    out = table.copy()
    for col in ("report_date", "horizon_end", "base_date", "price_date"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d").fillna("")
    if suffix == ".csv":
        out.to_csv(path, index=False, encoding="utf-8")
    elif suffix == ".json":
        records = json.loads(out.to_json(orient="records", force_ascii=False, double_precision=15))
        path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        raise ValueError(f"{path}: output must end in .csv or .json")
    return path
