"""Inputs of ``ratingbt brokers``: a ratings table → signals, the price panel, and the filters of the league table.

1. :func:`read_ratings` — a signals table (``ratingbt ingest -o``) is read as is; a ratings CSV as users have it
   (``../shared/data/ratings/ratings_2024_2025.csv``: ``date, broker, code, name, rating, rating_change, analyst,
   …``) goes through the ingest stage's structured reader
   (:func:`engine.signals.structured.signals_from_ratings_csv`: common column names, rating words normalised, each
   rating judged by its broker's registry scale of that date).
2. Ratings whose broker has no scale (no band, no level) get a *generic level* from the word
   (:data:`GENERIC_LEVELS`) so they can still be judged on direction. Such rows keep empty bands (no band hit) and
   an empty ``scale_source``.
3. :func:`engine.signals.history.derive_actions` fills the action (upgrade / downgrade / reiterate) from the
   broker's previous rating of the stock where the source does not state it; :func:`dedupe_signals` keeps one row
   per (broker, stock, day).
4. :func:`filter_signals` — period, market, industry, rating level, brokers; every dropped row is counted by reason.
5. :func:`market_panel` — the whole-market long parquet (adjusted closes) plus benchmark files
   (``SH000300.csv``) on the market's own sessions.
6. :func:`substitute_benchmarks` — a rating whose promised benchmark has no prices (上证综指 when only CSI 300 is
   loaded) is scored against a fallback index when one is given, and the league row says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from engine.data.panel import Panel
from engine.signals.history import dedupe_signals, derive_actions
from engine.signals.schema import REQUIRED_SIGNAL_COLUMNS, coerce_signals

__all__ = ["GENERIC_LEVELS", "RatingsInput", "read_ratings", "filter_signals", "market_panel", "SignalFilter",
           "apply_generic_levels", "substitute_benchmarks"]

#: Rating level by word for ratings whose broker has no scale (direction only: sign matters, no band).
#: Top words of 3-, 4- and 5-tier scales are +2, second-tier bullish words +1, neutral 0, bearish −1 / −2.
GENERIC_LEVELS: dict[str, float] = {
    "买入": 2, "买进": 2, "強烈推薦": 2, "强烈推荐": 2, "强推": 2, "强烈买入": 2, "优于大市": 2, "跑赢大市": 2,
    "推荐": 1, "增持": 1, "谨慎推荐": 1, "谨慎增持": 1, "审慎推荐": 1, "超配": 1, "超重": 1, "优于行业": 1,
    "跑赢行业": 1, "买入-A": 2, "买入-B": 2, "增持-A": 1, "增持-B": 1, "買入": 2, "增持評級": 1,
    "持有": 0, "中性": 0, "区间操作": 0, "同步大市": 0, "标配": 0,
    "减持": -1, "谨慎减持": -1, "低配": -1, "弱于大市": -2, "卖出": -2, "回避": -2,
}


@dataclass
class RatingsInput:
    """Signals read from one file, with the notes worth telling the user (counts of dropped rows by reason)."""

    signals: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    generic_level_rows: int = 0


def _registry(ratings_dir: str | Path | None):
    from engine.signals.scales import load_registry

    return load_registry(ratings_dir)


def _read_structured(path: Path, registry) -> tuple[pd.DataFrame, list[str]]:
    """The ingest stage's reader (column names as users have them, rating words normalised, scales by date)."""
    from engine.signals.structured import signals_from_ratings_csv

    frame, messages = signals_from_ratings_csv(path, registry)
    return frame, [m.text for m in messages]


def apply_generic_levels(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Step 2 of the module docstring; returns the table and the number of rows given a generic level."""
    need = (frame["kind"] == "rating") & frame["rating_level"].isna() & (frame["rating"] != "")
    if not need.any():
        return frame, 0
    level = frame.loc[need, "rating"].map(GENERIC_LEVELS)
    out = frame.copy()
    out.loc[need, "rating_level"] = level.astype(float)
    return out, int(level.notna().sum())


def _shorten(message: str) -> str:
    """The reader's list of every broker without a scale, cut to a count (the league names them)."""
    head, sep, rest = message.partition(": no registry scale for ")
    if not sep:
        return message
    items = rest.split(": bands and rating levels left empty")[0].split(", ")
    counts = [int(m.group(1)) for m in (re.search(r"×(\d+)$", i) for i in items) if m]
    what = f"{len(items)} brokers ({sum(counts):,d} ratings)" if len(counts) == len(items) else \
        f"{len(items)} broker · rating pairs"
    return f"{head}: no registry scale for {what}: bands left empty"


def read_ratings(path: str | Path, ratings_dir: str | Path | None = None) -> RatingsInput:
    """Signals of a ratings file (``.csv`` ratings or signals table, ``.parquet`` signals table); see module steps.

    Raises ``ValueError`` naming the file when it cannot be read or lacks a needed column.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    notes: list[str] = []
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = coerce_signals(pd.read_parquet(path))
    else:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
        if set(REQUIRED_SIGNAL_COLUMNS) <= set(header):
            frame = coerce_signals(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
        else:
            frame, messages = _read_structured(path, _registry(ratings_dir))
            notes += [_shorten(m) for m in messages]
    frame, n_generic = apply_generic_levels(frame)
    if n_generic:
        notes.append(f"{n_generic} ratings of brokers without a scale got a generic level (direction only, no band)")
    unknown = frame[(frame["kind"] == "rating") & frame["rating_level"].isna()]
    if len(unknown):
        counts = unknown["rating"].replace("", "(empty)").value_counts()
        notes.append("rating words without a level (not judged on direction): "
                     + ", ".join(f"{w} {n}" for w, n in counts.items()))
    before = len(frame)
    frame = dedupe_signals(derive_actions(frame))
    if len(frame) < before:
        notes.append(f"{before - len(frame)} duplicate rows (same broker, stock and day) merged")
    return RatingsInput(signals=frame, notes=notes, generic_level_rows=n_generic)


@dataclass(frozen=True)
class SignalFilter:
    """Which ratings enter the league table. Dates are publication dates (inclusive); ``levels`` are rating levels
    (+2 … −2) to keep; ``markets`` ``A`` / ``HK``; ``industries`` and ``brokers`` exact names."""

    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    markets: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    levels: tuple[float, ...] = ()
    brokers: tuple[str, ...] = ()


def filter_signals(signals: pd.DataFrame, flt: SignalFilter) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rated rows that pass ``flt`` and the number of rows dropped by each reason (``not a rating`` first)."""
    dropped: dict[str, int] = {}
    keep = np.ones(len(signals), dtype=bool)

    def drop(reason: str, mask: np.ndarray) -> None:
        nonlocal keep
        n = int((keep & ~mask).sum())
        if n:
            dropped[reason] = n
        keep &= mask

    drop("not a rating (mention)", (signals["kind"] == "rating").to_numpy())
    dates = signals["report_date"]
    if flt.start is not None:
        drop(f"published before {flt.start:%Y-%m-%d}", (dates >= flt.start).to_numpy())
    if flt.end is not None:
        drop(f"published after {flt.end:%Y-%m-%d}", (dates <= flt.end).to_numpy())
    if flt.markets:
        drop(f"market not {'/'.join(flt.markets)}", signals["market"].isin(flt.markets).to_numpy())
    if flt.industries:
        drop(f"industry not {'/'.join(flt.industries)}", signals["industry"].isin(flt.industries).to_numpy())
    if flt.levels:
        drop(f"rating level not {'/'.join(f'{x:+g}' for x in flt.levels)}",
             signals["rating_level"].isin(flt.levels).to_numpy())
    if flt.brokers:
        drop(f"broker not {'/'.join(flt.brokers)}", signals["broker"].isin(flt.brokers).to_numpy())
    return signals[keep].reset_index(drop=True), dropped


def substitute_benchmarks(signals: pd.DataFrame, panel: Panel, fallback: str | None
                          ) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Ratings whose benchmark has no prices in ``panel`` (e.g. 上证综指 ``000001.SH`` when only CSI 300 is loaded):
    scored against ``fallback`` instead when given, else left (they get status ``no benchmark price``).

    Returns the table, ``{broker: "000001.SH → 000300.SH"}`` for the brokers concerned, and notes for the user."""
    from engine.symbols import SymbolError, default_benchmark, normalize_symbol

    priced = set(panel.codes[np.isfinite(panel.close).any(axis=0)].astype(str))

    def canonical(code: str, bench: str) -> str:
        try:
            return normalize_symbol(bench) if bench.strip() else default_benchmark(code)
        except SymbolError:
            return bench.strip()

    pairs = pd.Series(list(zip(signals["code"].astype(str), signals["benchmark"].astype(str))))
    resolved = pairs.map({p: canonical(*p) for p in pd.unique(pairs)}).to_numpy(dtype=object)
    missing = ~pd.Series(resolved).isin(priced).to_numpy() & (signals["code"].astype(str) != "").to_numpy()
    if not missing.any():
        return signals, {}, []
    counts = pd.Series(resolved[missing]).value_counts()
    listed = ", ".join(f"{b} ({n} ratings)" for b, n in counts.items())
    if not fallback:
        return signals, {}, [f"no prices for benchmark {listed}: those ratings are not scored (add the index with "
                              "--benchmark FILE, or score them against CSI 300 with --benchmark-fallback 000300.SH)"]
    fallback = normalize_symbol(fallback)
    out = signals.copy()
    out.loc[missing, "benchmark"] = fallback
    brokers = pd.DataFrame({"broker": signals.loc[missing, "broker"].astype(str), "bench": resolved[missing]})
    changed = {b: f"{'/'.join(sorted(set(g['bench'])))} → {fallback}" for b, g in brokers.groupby("broker")}
    return out, changed, [f"no prices for benchmark {listed}: scored against {fallback} instead "
                          f"({len(changed)} brokers; their league rows say so)"]


def market_panel(market: str | Path, codes: Iterable[str], benchmark_files: Sequence[str | Path] = (),
                 start: object | None = None, end: object | None = None) -> Panel:
    """Panel of ``codes`` from a long market parquet (``code, date, open, high, low, close, volume``; volume in lots)
    plus one column per benchmark file (``SH000300.csv``, the data layer's per-symbol format) on the market's
    sessions. Codes absent from the file are all-NaN columns (scored ``no price data``). Prices adjusted (CNY,
    index points); ``raw_close`` is NaN for the market file."""
    from engine.data.load import panel_from_long
    from engine.data.panel import PANEL_FIELDS
    from engine.data.providers.local import code_from_filename, read_symbol_file

    codes = list(dict.fromkeys(codes))
    base = panel_from_long(market, codes=codes, start=start, end=end)
    sessions = pd.DatetimeIndex(base.sessions)
    extra_codes, extra = [], {name: [] for name in PANEL_FIELDS}
    for path in benchmark_files:
        path = Path(path)
        code = code_from_filename(path)
        bars = read_symbol_file(path, code)
        bars = bars.set_index("date") if "date" in bars.columns else bars
        bars.index = pd.DatetimeIndex(pd.to_datetime(bars.index)).tz_localize(None).normalize()
        bars = bars.reindex(sessions)
        extra_codes.append(code)
        for name in PANEL_FIELDS:
            values = bars[name] if name in bars.columns else pd.Series(np.nan, index=sessions)
            extra[name].append(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float))
    if not extra_codes:
        return base
    keep = [i for i, c in enumerate(base.codes) if c not in extra_codes]
    arrays = {name: np.column_stack([getattr(base, name)[:, keep], *[v[:, None] for v in extra[name]]])
              for name in PANEL_FIELDS}
    tradable = np.column_stack([base.tradable[:, keep], np.zeros((len(sessions), len(extra_codes)), dtype=bool)])
    return Panel(sessions=base.sessions, codes=np.array([*base.codes[keep], *extra_codes], dtype=object),
                 tradable=tradable, **arrays)

