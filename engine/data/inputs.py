"""A run's inputs from its config: the signals table and the price panel, for every stage alike.

Stage-neutral on purpose: ``ratingbt run`` loads signals and prices here once and hands the same objects to scoring,
the backtest and the screen; ``ratingbt backtest`` and notebooks call the same functions.

1. :func:`load_signals` — ``signals.file`` (CSV or parquet with the signals columns) or ``signals.reports`` (report
   files through :func:`engine.signals.ingest.ingest_paths`, remembered per unchanged set of files:
   :mod:`engine.data.parsed`; every per-file message is kept).
2. :func:`load_prices` — a :class:`~engine.data.panel.Panel` of the given codes from the config's provider chain
   (:func:`engine.data.load.load_panel`); ``data.offline`` keeps only local files and the cache.
3. :func:`select_panel` — rows and columns of a wider panel (a stage's own universe, period and exchange calendar),
   so one panel loaded for the whole run serves each stage without loading prices again.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import pandas as pd

from engine.config import ConfigError

if TYPE_CHECKING:
    from engine.config import BacktestConfig
    from engine.data.panel import Panel

__all__ = ["MissingInputError", "missing_path_hint", "load_signals", "load_prices", "local_price_sources", "select_panel",
           "calendar_for_benchmark"]


class MissingInputError(FileNotFoundError):
    """Signals or prices named by the config are absent; the message says what and how to fix the config."""


def missing_path_hint(cfg: "BacktestConfig", key: str, path: Path) -> str:
    """``key points at path, which does not exist``; for a config that uses the shared folder (``shared:`` paths or a
    path inside it, :meth:`~engine.config.BacktestConfig.uses_shared`) also where that folder is expected and how to
    point the config at the user's own data; for the user's own config, where relative paths are read from."""
    text = f"{key} points at {path}, which does not exist."
    if cfg.uses_shared(path):
        return (text + " This config reads the shared folder (../shared next to the repository, or set "
                "RATINGBT_SHARED=/path/to/shared). To use your own data, edit the config: signals.reports (folders "
                "of reports) or signals.file (a signals CSV from `ratingbt ingest`), and data.prices (folders of "
                "per-symbol CSVs and files such as a whole-market parquet) or data.providers (akshare / yfinance).")
    return text + f" Check the path in {key} (relative paths are read from the config's folder {cfg.base_dir})."


def load_signals(cfg: "BacktestConfig", messages: list[str] | None = None, executor=None) -> pd.DataFrame:
    """The signals table named by ``cfg.signals`` (coerced to :data:`engine.signals.schema.SIGNAL_COLUMNS`).

    Reports are parsed once per set of unchanged files and parser (:mod:`engine.data.parsed` remembers the table
    in the cache folder). Parsed reports append one ``"<file>: <message>"`` line per parser message to ``messages`` (when given); a config
    whose reports yield no signal at all raises :class:`~engine.config.ConfigError`. Reports are read on
    ``executor`` (an :class:`engine.executor.Executor`, e.g. worker processes) when given.
    """
    from engine.signals.schema import coerce_signals

    if cfg.signals.file is not None:
        path = cfg.resolve(cfg.signals.file)
        if not path.is_file():
            raise MissingInputError(missing_path_hint(cfg, "signals.file", path))
        from engine.signals.read_file import read_signals_file

        try:
            read = read_signals_file(path)  # dates ISO only: a bad one is named (file:line) and becomes "no date"
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        for note in read.notes():
            if messages is not None:
                messages.append(note)
            else:
                warnings.warn(note, stacklevel=2)
        return read.table
    paths = cfg.report_paths()
    for path in paths:
        if not path.exists():
            raise MissingInputError(missing_path_hint(cfg, "signals.reports", path))
    from engine.data.parsed import ParsedReports, remembered_ingest
    from engine.paths import cache_dir

    def parse() -> ParsedReports:
        from engine.signals.ingest import ingest_paths

        result = ingest_paths(paths, executor=executor)
        notes = [f"{Path(r.path).name}: {m.text}" for r in result.files for m in r.messages]
        unreadable = [f"unreadable report {r.path}: {'; '.join(m.text for m in r.messages)}"
                      for r in result.files if not r.readable]
        return ParsedReports(coerce_signals(result.signals), notes, unreadable)

    # an unchanged set of reports (and parser) is not parsed again: engine.data.parsed
    parsed = remembered_ingest(paths, cfg.resolve(cfg.data.cache) or cache_dir(), parse)
    if messages is not None:
        messages += parsed.notes
    else:
        for text in parsed.unreadable:
            warnings.warn(text, stacklevel=2)
    if parsed.signals.empty:
        raise ConfigError(f"no signal could be read from {', '.join(map(str, paths))}"
                          + (" (see the notes above)" if messages is not None else ""))
    return parsed.signals.copy()


def calendar_for_benchmark(benchmark: str) -> str:
    """The exchange calendar a portfolio benchmarked on ``benchmark`` trades on: XHKG for Hong Kong indexes, else
    XSHG (Shanghai, also used for Shenzhen and Beijing)."""
    from engine.symbols import SymbolError, parse_symbol

    try:
        return "XHKG" if parse_symbol(benchmark).market.value == "HK" else "XSHG"
    except SymbolError:
        return "XSHG"


def local_price_sources(cfg: "BacktestConfig") -> list[Path]:
    """``data.prices`` (or its one-folder alias ``data.prices_dir``) resolved, in order; a path that does not exist
    raises :class:`MissingInputError` naming the key and the path."""
    roots = []
    for raw in cfg.data.prices or []:
        path = cfg.resolve(raw)
        if not path.exists():
            key = "data.prices_dir" if cfg.data.prices_dir is not None else "data.prices"  # the key the user wrote
            raise MissingInputError(missing_path_hint(cfg, key, path))
        roots.append(path)
    return roots


def load_prices(cfg: "BacktestConfig", codes: Iterable[str], start: pd.Timestamp | None,
                end: pd.Timestamp | None, calendar: str | None = None) -> "Panel":
    """Panel of ``codes`` over ``[start, end]`` (``end`` None = today) from the configured provider chain
    (:func:`engine.data.load.load_panel`); ``data.offline`` keeps only the local folder and the cache.

    Sessions follow ``calendar`` when given (see :func:`engine.data.load.load_panel`), else the benchmark's exchange
    calendar (:func:`calendar_for_benchmark`). Codes without any price stay in the panel as all-NaN columns and are
    named in one warning.
    """
    codes = list(dict.fromkeys(codes))
    roots = local_price_sources(cfg)
    from engine.data.load import load_panel
    from engine.data.providers import make_provider

    providers: list[Any] = []
    for name in cfg.data.providers:
        if name == "cache" or (cfg.data.offline and name != "local"):
            continue  # the cache is always read first; offline = no network provider
        providers.append(make_provider("local", roots=roots) if name == "local" and roots else name)
    calendar = calendar or calendar_for_benchmark(cfg.benchmark)
    end = end if end is not None else pd.Timestamp.today().normalize()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing ranges are reported below, once, in our own words
        panel = load_panel(codes, start, end, calendar=calendar, offline=False, providers=providers,
                           cache=cfg.resolve(cfg.data.cache), on_missing="ignore")
    no_data = [c for c in codes if c in set(panel.codes) and not np.isfinite(panel.close[:, panel.column(c)]).any()]
    if no_data:
        used = [n for n in cfg.data.providers if not (cfg.data.offline and n not in ("local", "cache"))]
        warnings.warn(f"no prices for {', '.join(no_data)} from {', '.join(used)}"
                      + (" (offline)" if cfg.data.offline else "") + "; its signals are skipped", stacklevel=2)
    return panel


def select_panel(panel: "Panel", codes: Iterable[str] | None = None, start: object | None = None,
                 end: object | None = None, calendar: str | None = None) -> "Panel":
    """The part of ``panel`` a stage needs: the columns ``codes`` (in that order; all when ``None``), the sessions
    within ``[start, end]`` (inclusive dates; open ends when ``None``) and, with ``calendar`` (``XSHG`` / ``XHKG``),
    only that exchange's sessions (:func:`engine.data.calendars.sessions`, the data's own dates past the calendar's
    range). Codes absent from ``panel`` raise ``KeyError`` naming them. ``missing`` and ``first_bar_dates`` are kept.
    """
    from engine.data.calendars import sessions as calendar_sessions

    if codes is not None:
        codes = list(dict.fromkeys(codes))
        absent = [c for c in codes if c not in set(panel.codes)]
        if absent:
            raise KeyError(f"not in the run's price panel: {', '.join(absent)}")
        panel = panel.subset(codes)
    days = pd.DatetimeIndex(panel.sessions)
    keep = np.ones(len(days), dtype=bool)
    if start is not None:
        keep &= days >= pd.Timestamp(start).normalize()
    if end is not None:
        keep &= days <= pd.Timestamp(end).normalize()
    if calendar is not None and keep.any():
        wanted = calendar_sessions(calendar, days[keep][0], days[keep][-1], data_sessions=days[keep])
        keep &= days.isin(wanted)
    if keep.all():
        return panel
    rows = np.flatnonzero(keep)
    sliced = {name: getattr(panel, name)[rows] for name in ("sessions", "open", "high", "low", "close", "raw_close",
                                                             "volume", "tradable")}
    return dataclasses.replace(panel, **sliced)
