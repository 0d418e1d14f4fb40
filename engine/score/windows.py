"""Signals table → scoring windows on the panel → the per-signal ``scores`` table.

Conventions (all configurable through :class:`ScoreConfig`):

- **base**: the close of the publication date ``report_date``, or of the last session before it when that date is not
  a session of the panel. A stock suspended at the base is valued at its last traded close before it.
- **horizon end**: the last session on or before ``report_date + horizon_months`` (calendar months, ``DateOffset``).
  A stock suspended at the horizon end is valued at its last traded close before it.
- **ranges** ``"6-12"`` are scored at both ends: the signal becomes two rows of ``scores`` with ``horizon_leg`` =
  ``short`` (6 months) and ``long`` (12 months); a single horizon gives one row with ``horizon_leg`` = ``single``.
  Scorecards use one leg per signal (``ScoreConfig.range_leg``, default ``long``). An empty horizon uses
  ``ScoreConfig.default_horizon_months`` (12) and says so in ``note``.
- **benchmark**: the signal's ``benchmark`` when given (any spelling :func:`engine.symbols.normalize_symbol` reads),
  else by market: CSI 300 ``000300.SH`` for A-shares, ``HSI`` for Hong Kong.
- **incomplete**: when the stock's or the benchmark's data (or the panel, or ``as_of``) ends before the horizon end,
  the window is scored *so far* up to the last session both have, and marked ``complete = False``.
- **as_of**: sessions after ``as_of`` are cut from the panel; signals published after it get status
  ``published after as-of`` (kept, not scored).
- a stock absent from the panel or without any price gets status ``no price data`` (kept, never dropped); a row
  without a security code (a name the ingest step could not resolve) gets ``no security code``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from engine.data.panel import Panel
from engine.enums import EXCESS_MODE_NAMES, STATUS_NO_PRICE_DATA, WINDOW_STATUS_NAMES, WindowStatus
from engine.kernels.forward_returns import forward_returns_rows_nb, last_bar_index_nb
from engine.kernels.ordering import column_visit_order_nb
from engine.score.columns import categorical_from_codes, factorize_strings
from engine.score.scales import ScaleLookup, default_scale_lookup, realised_rating_codes
from engine.symbols import SymbolError, default_benchmark, normalize_symbol

__all__ = ["ScoreConfig", "parse_horizon", "expand_horizons", "cut_panel", "prepare_windows", "score_windows",
           "score_windows_with_indices",
           "STATUS_AFTER_AS_OF", "SCORE_COLUMNS"]

STATUS_AFTER_AS_OF = "published after as-of"
STATUS_NO_CODE = "no security code"  # a mention by name only whose code could not be resolved
STATUS_NO_DATE = "no report date"


@dataclass(frozen=True)
class ScoreConfig:
    """Scoring conventions. ``excess_mode``: ``absolute`` (r − b, the brokers' own definition) or ``relative``
    ((1+r)/(1+b) − 1). ``range_leg``: which end of a ``"6-12"`` range the scorecards use (``short`` / ``long``).
    ``event_offsets``: event-study sessions after publication (0..250 → 251). ``default_horizon_months`` applies to
    signals without a horizon."""

    excess_mode: Literal["absolute", "relative"] = "absolute"
    range_leg: Literal["short", "long"] = "long"
    default_horizon_months: int = 12
    event_offsets: int = 251

    def __post_init__(self) -> None:
        if self.excess_mode not in EXCESS_MODE_NAMES:
            raise ValueError(f"excess_mode={self.excess_mode!r}; allowed: {', '.join(EXCESS_MODE_NAMES)}")
        if self.range_leg not in ("short", "long"):
            raise ValueError(f"range_leg={self.range_leg!r}; allowed: short, long")
        if self.default_horizon_months <= 0 or self.event_offsets <= 0:
            raise ValueError("default_horizon_months and event_offsets must be positive")


_RANGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-|–|~|～|至|到)\s*(\d+(?:\.\d+)?)\s*$")
_SINGLE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")


def parse_horizon(text: object) -> tuple[int, int] | None:
    """``"12"`` → (12, 12); ``"6-12"`` (also ``6~12``, ``6至12``, ``12.0``) → (6, 12); empty/NaN → ``None``.

    Raises ``ValueError`` quoting the text when it is neither a number of months nor a range.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    s = str(text).strip().removesuffix("个月").removesuffix("月").removesuffix("m").strip()
    if s == "" or s.lower() == "nan":
        return None
    m = _SINGLE_RE.match(s)
    if m:
        months = int(round(float(m.group(1))))
        return months, months
    m = _RANGE_RE.match(s)
    if m:
        lo, hi = sorted((int(round(float(m.group(1)))), int(round(float(m.group(2))))))
        return lo, hi
    raise ValueError(f"horizon_months {text!r} is neither a number of months (\"12\") nor a range (\"6-12\")")


def expand_horizons(signals: pd.DataFrame, config: ScoreConfig) -> pd.DataFrame:
    """One row per scored window: ranges become a ``short`` and a ``long`` row (see module docstring).

    Adds ``signal_row`` (row in ``signals``), ``horizon_scored_months`` (int), ``horizon_leg`` and ``note``.
    A bad horizon does not stop the run: that row gets the default horizon and a ``note`` naming the problem.
    """
    codes, uniques = factorize_strings(signals["horizon_months"])
    texts = codes
    lo_u, hi_u, note_u = [], [], []
    for text in uniques:
        note = ""
        try:
            parsed = parse_horizon(text)
        except ValueError as exc:
            parsed, note = None, f"{exc}; used {config.default_horizon_months} months"
        if parsed is None:
            parsed = (config.default_horizon_months,) * 2
            note = note or f"no horizon given; used {config.default_horizon_months} months"
        lo_u.append(parsed[0]), hi_u.append(parsed[1]), note_u.append(note)
    lo = np.asarray(lo_u, dtype=np.int64)[codes]
    hi = np.asarray(hi_u, dtype=np.int64)[codes]
    note = np.asarray(note_u, dtype=object)[codes] if len(texts) else np.array([], dtype=object)
    is_range = lo != hi
    reps = np.where(is_range, 2, 1)
    rows_idx = np.repeat(np.arange(len(texts), dtype=np.int64), reps)
    first = np.r_[True, rows_idx[1:] != rows_idx[:-1]] if len(rows_idx) else np.zeros(0, dtype=bool)
    rng = is_range[rows_idx]
    months = np.where(rng & first, lo[rows_idx], hi[rows_idx])
    leg_codes = np.where(rng, np.where(first, 0, 1), 2)
    # notes as codes into the distinct notes; a bad horizon's note names its signal (one label per such row)
    note_labels = list(note_u)
    note_codes = codes[rows_idx] if len(texts) else np.zeros(0, dtype=np.int64)
    bad_text = np.array([bool(n) and not n.startswith("no horizon") for n in note_u], dtype=bool)
    bad = np.flatnonzero(bad_text[note_codes]) if len(note_u) else np.zeros(0, dtype=np.int64)
    if len(bad):
        ids = signals["signal_id"].to_numpy(dtype=object)
        note_codes = note_codes.copy()
        for i in bad:
            note_codes[i] = len(note_labels)
            note_labels.append(f"signal {ids[rows_idx[i]]}: {note_u[codes[rows_idx[i]]]}")
    out = signals.iloc[rows_idx].reset_index(drop=True)
    out.insert(0, "signal_row", np.asarray(rows_idx, dtype=np.int64))
    out["horizon_scored_months"] = np.asarray(months, dtype=np.int64)
    out["horizon_leg"] = categorical_from_codes(leg_codes, np.array(["short", "long", "single"], dtype=object))
    out["note"] = categorical_from_codes(note_codes, np.asarray(note_labels, dtype=object))
    return out


def cut_panel(panel: Panel, as_of: object | None) -> Panel:
    """The panel without sessions after ``as_of`` (inclusive cut; ``None`` = unchanged): no look-ahead past it."""
    if as_of is None:
        return panel
    cutoff = np.datetime64(pd.Timestamp(as_of).normalize().to_datetime64(), "ns")
    n = int(np.searchsorted(panel.sessions, cutoff, side="right"))
    if n == len(panel.sessions):
        return panel
    sliced = {name: getattr(panel, name)[:n] for name in ("sessions", "open", "high", "low", "close", "raw_close",
                                                          "volume", "tradable")}
    return dataclasses.replace(panel, **sliced)


def _canonical_codes(codes: np.ndarray) -> np.ndarray:
    """Canonical spelling of each code (``300474`` → ``300474.SZ``); unreadable codes are kept as written."""
    if len(codes) == 0:
        return codes
    inverse, uniques = pd.factorize(codes)
    canonical = []
    for code in uniques:
        try:
            canonical.append(normalize_symbol(code) if str(code).strip() else "")
        except SymbolError:
            canonical.append(str(code))
    return np.asarray(canonical, dtype=object)[inverse]


def _benchmark_code(code: str, given: str) -> str:
    if given and given.strip():
        try:
            return normalize_symbol(given)
        except SymbolError:
            return given.strip()
    try:
        return default_benchmark(code)
    except SymbolError:
        return ""


def prepare_windows(windows: pd.DataFrame, panel: Panel, as_of: object | None = None) -> dict[str, np.ndarray]:
    """Index arrays for :func:`forward_returns_nb` from the expanded windows (see module docstring for conventions).

    Returns ``asset_col`` (-1 = code not in panel or no price at all), ``bench_col`` (-1 = not in panel), ``base_idx``,
    ``end_idx`` (``n_sessions`` = horizon ends after the panel), ``horizon_end_date`` (nominal date), the canonical
    benchmark code used as ``benchmark_codes`` (int) into ``benchmark_labels`` and ``after_as_of`` (published after
    ``as_of``).
    """
    sessions = panel.sessions
    n_sessions = len(sessions)
    code_index = pd.Index(panel.codes.astype(str))
    has_price = np.isfinite(panel.close).any(axis=0)
    # everything per distinct code / benchmark, then spread to rows by integer codes
    code_ids, written = factorize_strings(windows["code"])
    code_uniques = _canonical_codes(written)
    asset_u = code_index.get_indexer(code_uniques).astype(np.int64) if len(code_uniques) else np.zeros(0, np.int64)
    found = asset_u >= 0
    asset_u[found] = np.where(has_price[asset_u[found]], asset_u[found], -1)
    asset_col = asset_u[code_ids] if len(code_ids) else np.zeros(0, dtype=np.int64)
    given_ids, given_uniques = factorize_strings(windows["benchmark"])
    width = max(len(given_uniques), 1)
    pair_codes, pairs = pd.factorize(code_ids.astype(np.int64) * width + given_ids)
    resolved = np.array([_benchmark_code(code_uniques[p // width], given_uniques[p % width]) for p in pairs],
                        dtype=object)
    bench_u = code_index.get_indexer(resolved).astype(np.int64) if len(resolved) else np.zeros(0, np.int64)
    bench_col = bench_u[pair_codes] if len(code_ids) else np.array([], np.int64)
    report = pd.to_datetime(windows["report_date"]).to_numpy(dtype="datetime64[ns]")
    base_idx = np.searchsorted(sessions, report, side="right").astype(np.int64) - 1
    base_idx[np.isnat(report)] = -1
    months = windows["horizon_scored_months"].to_numpy(dtype=np.int64)
    end_dates = np.full(len(windows), np.datetime64("NaT"), dtype="datetime64[ns]")
    day_codes, days = pd.factorize(report)  # calendar-month offsets per distinct date, not per row (NaT → -1)
    days = pd.DatetimeIndex(days)
    for m in np.unique(months):
        sel = (months == m) & (day_codes >= 0)
        ends = (days + pd.DateOffset(months=int(m))).to_numpy(dtype="datetime64[ns]")
        end_dates[sel] = ends[day_codes[sel]]
    end_idx = np.searchsorted(sessions, end_dates, side="right").astype(np.int64) - 1
    if n_sessions:
        # a horizon ending after the panel's last session is not over yet (incomplete) -- unless no weekday lies
        # between that session and the end date (a Friday close and a Saturday end): the last session on or
        # before the end date is then known and the window is complete
        after = np.flatnonzero(end_dates > sessions[-1])
        last_day = sessions[-1].astype("datetime64[D]")
        weekdays = np.busday_count(last_day + np.timedelta64(1, "D"),
                                   end_dates[after].astype("datetime64[D]") + np.timedelta64(1, "D"))
        end_idx[after[weekdays > 0]] = n_sessions
    end_idx[np.isnat(end_dates)] = -1
    after = np.zeros(len(windows), dtype=bool)
    if as_of is not None:
        after = report > np.datetime64(pd.Timestamp(as_of).normalize().to_datetime64(), "ns")
    return {"asset_col": asset_col, "bench_col": bench_col, "base_idx": base_idx, "end_idx": end_idx,
            "horizon_end_date": end_dates, "after_as_of": after,
            "benchmark_codes": pair_codes.astype(np.int64), "benchmark_labels": resolved}


#: Columns the scoring stage adds to each window (units in the README's scoring section).
SCORE_COLUMNS = [
    "horizon_scored_months", "horizon_leg", "benchmark_used", "horizon_end_date",
    "base_date", "base_close", "end_date", "end_close", "bench_base_date", "bench_base_close",
    "bench_end_date", "bench_end_close", "stock_return", "bench_return", "excess_return",
    "best_excess", "worst_excess", "realised_rating", "hit", "direction_hit", "touch_hit", "touch_date",
    "sessions_to_touch", "days_to_touch", "complete", "status", "note",
]


def _take(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``values[idx]`` with NaN/NaT where ``idx == -1`` (one gather from ``values`` with a NaN/NaT appended; ``idx``
    in ``-1 .. len(values) - 1``)."""
    values = np.asarray(values)
    missing = np.array([np.datetime64("NaT")], dtype=values.dtype) if values.dtype.kind == "M" else np.array([np.nan])
    padded = np.concatenate([values if values.dtype.kind == "M" else values.astype(float), missing])
    return padded[idx]  # idx -1 reads the appended NaN/NaT


def score_windows(signals: pd.DataFrame, panel: Panel, config: ScoreConfig = ScoreConfig(),
                  as_of: object | None = None, scale_lookup: ScaleLookup | None = None) -> pd.DataFrame:
    """The ``scores`` table: the signals' own columns plus :data:`SCORE_COLUMNS`, one row per scored window.

    ``panel`` must already be cut at ``as_of`` (see :func:`cut_panel`); ``as_of`` here only marks signals published
    after it. ``hit``, ``direction_hit`` and ``touch_hit`` are nullable booleans (NA for mentions, unrated rows and
    windows that could not be scored); incomplete windows carry their *so far* values with ``complete = False``.
    """
    return score_windows_with_indices(signals, panel, config, as_of, scale_lookup)[0]


def score_windows_with_indices(signals: pd.DataFrame, panel: Panel, config: ScoreConfig = ScoreConfig(),
                               as_of: object | None = None, scale_lookup: ScaleLookup | None = None
                               ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """:func:`score_windows` plus the panel indices of each row (:func:`prepare_windows`), for reuse downstream, and
    ``visit_order``: the scorable rows in the order the kernel visited them (by asset column, then base session)."""
    windows = expand_horizons(signals, config)
    arrays = prepare_windows(windows, panel, as_of)
    close = panel.close if panel.close.flags.f_contiguous else np.asfortranarray(panel.close)
    last_bar = last_bar_index_nb(close)
    scorable = (arrays["asset_col"] >= 0) & ~arrays["after_as_of"]
    # visit signals by (asset, base session): neighbouring signals then read the same stretch of the same column,
    # which halves the kernel's CPU time on large random inputs; the kernel writes each output at its own row
    sel = column_visit_order_nb(np.flatnonzero(scorable).astype(np.int64), arrays["asset_col"], arrays["base_idx"],
                                close.shape[1], len(panel.sessions))
    arrays["visit_order"] = sel
    band_low = windows["band_low"].to_numpy(dtype=float)
    band_high = windows["band_high"].to_numpy(dtype=float)
    res = forward_returns_rows_nb(close, last_bar, sel, arrays["asset_col"], arrays["bench_col"], arrays["base_idx"],
                                  arrays["end_idx"], band_low, band_high, EXCESS_MODE_NAMES[config.excess_mode])
    names = ("stock_base_idx", "stock_end_idx", "bench_base_idx", "bench_end_idx", "stock_return", "bench_return",
             "excess_return", "best_excess", "worst_excess", "touch_idx", "window_status", "base_close", "end_close",
             "bench_base_close", "bench_end_close")
    full = dict(zip(names, res))

    # status as codes into STATUS_LABELS (kernel statuses first, then the wrapper's)
    status = full["window_status"].astype(np.int64)
    status[arrays["asset_col"] < 0] = _STATUS_CODE[STATUS_NO_PRICE_DATA]
    code_ids, code_texts = factorize_strings(windows["code"])
    no_code = np.array([not str(c).strip() for c in code_texts], dtype=bool)
    status[no_code[code_ids] if len(code_ids) else np.zeros(0, bool)] = _STATUS_CODE[STATUS_NO_CODE]
    status[windows["report_date"].isna().to_numpy()] = _STATUS_CODE[STATUS_NO_DATE]
    status[arrays["after_as_of"]] = _STATUS_CODE[STATUS_AFTER_AS_OF]
    scored = (status == WindowStatus.Complete) | (status == WindowStatus.Incomplete)

    sessions = panel.sessions
    new: dict[str, object] = {}
    new["benchmark_used"] = categorical_from_codes(arrays["benchmark_codes"], arrays["benchmark_labels"])
    new["horizon_end_date"] = arrays["horizon_end_date"].copy()
    new["base_date"] = _take(sessions, full["stock_base_idx"])
    new["base_close"] = full["base_close"]
    new["end_date"] = _take(sessions, full["stock_end_idx"])
    new["end_close"] = full["end_close"]
    new["bench_base_date"] = _take(sessions, full["bench_base_idx"])
    new["bench_base_close"] = full["bench_base_close"]
    new["bench_end_date"] = _take(sessions, full["bench_end_idx"])
    new["bench_end_close"] = full["bench_end_close"]
    for name in ("stock_return", "bench_return", "excess_return", "best_excess", "worst_excess"):
        new[name] = full[name]

    lookup = scale_lookup or default_scale_lookup(signals)
    broker_codes, brokers = factorize_strings(windows["broker"])
    market_codes, markets = _market_codes(code_ids, code_texts, windows["market"])
    realised_codes, realised_labels = realised_rating_codes(full["excess_return"], broker_codes, brokers,
                                                            market_codes, markets, lookup)
    new["realised_rating"] = categorical_from_codes(realised_codes, realised_labels)

    excess = full["excess_return"]
    level = windows["rating_level"].to_numpy(dtype=float)
    kind_codes, kinds = factorize_strings(windows["kind"])
    rated = (kinds == "rating")[kind_codes] & np.isfinite(level) & scored
    has_band = np.isfinite(band_low) | np.isfinite(band_high)
    in_band = np.where(np.isfinite(band_low), excess >= band_low, True) & \
        np.where(np.isfinite(band_high), excess <= band_high, True)
    banded = rated & has_band
    new["hit"] = pd.arrays.BooleanArray(in_band & banded, ~banded)
    direction = np.where(level > 0, excess > 0, np.where(level < 0, excess < 0, in_band & has_band))
    new["direction_hit"] = pd.arrays.BooleanArray(direction, ~(rated & ((level != 0) | has_band)))
    touch = full["touch_idx"]
    new["touch_hit"] = pd.arrays.BooleanArray(touch >= 0, ~banded)
    touch_date = _take(sessions, touch)
    new["touch_date"] = touch_date
    base = arrays["base_idx"]
    new["sessions_to_touch"] = pd.arrays.IntegerArray(np.where(touch >= 0, touch - base, 0), touch < 0)
    base_day = _take(sessions, np.where(base < len(sessions), base, -1))
    new["days_to_touch"] = pd.array((touch_date - base_day) / np.timedelta64(1, "D"))
    new["complete"] = status == WindowStatus.Complete
    new["status"] = categorical_from_codes(status, STATUS_LABELS)
    return pd.concat([windows, _frame_without_copy(new, windows.index)], axis=1), arrays


def _frame_without_copy(columns: dict[str, object], index: pd.Index) -> pd.DataFrame:
    """A DataFrame over ``columns`` (1-D numpy arrays or pandas extension arrays of ``len(index)``) that keeps each
    array as its own block instead of copying same-dtype columns into one 2-D block (``pd.DataFrame(dict)`` does):
    on a million-row table that copy and its fresh pages cost more than the scoring kernel. The arrays are new and
    owned by the frame (nothing else holds them)."""
    from pandas.api.internals import create_dataframe_from_blocks

    blocks = [(values[None, :] if isinstance(values, np.ndarray) else values, np.array([i]))
              for i, values in enumerate(columns.values())]
    return create_dataframe_from_blocks(blocks, index=index, columns=pd.Index(list(columns)))


#: Every ``status`` value: the kernel's :data:`engine.enums.WINDOW_STATUS_NAMES` (same codes), then the wrapper's.
STATUS_LABELS = np.array(list(WINDOW_STATUS_NAMES) + [STATUS_NO_PRICE_DATA, STATUS_NO_CODE, STATUS_NO_DATE,
                                                      STATUS_AFTER_AS_OF], dtype=object)
_STATUS_CODE = {name: i for i, name in enumerate(STATUS_LABELS)}


def _market_codes(code_ids: np.ndarray, code_texts: np.ndarray, market: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Market per row as codes into ``["A", "HK"]``: the signal's ``market`` when ``A``/``HK``, else from the code
    (``.HK`` / ``HSI`` → HK); computed per distinct code and market."""
    labels = np.array(["A", "HK"], dtype=object)
    derived = np.array([1 if str(c).endswith(".HK") or str(c) == "HSI" else 0 for c in code_texts], dtype=np.int64)
    given_ids, given = factorize_strings(market)
    given_code = np.array([0 if g == "A" else 1 if g == "HK" else -1 for g in given], dtype=np.int64)
    if len(code_ids) == 0:
        return np.zeros(0, dtype=np.int64), labels
    row_given = given_code[given_ids]
    return np.where(row_given >= 0, row_given, derived[code_ids]), labels
