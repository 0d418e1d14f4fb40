"""Prices for scoring: the panel of the signals' stocks and their benchmarks.

:func:`panel_for_signals` uses the data layer's :func:`engine.data.load.load_panel` (the price cache; offline by
default) unless a ``prices_dir`` is given; then it reads a directory of per-symbol CSV files named like
``../shared/data/prices`` (``SZ300474.csv``, ``SH000300.csv``, ``HKHSI.csv``, ``HK00700.csv``; columns
``date, open, high, low, close`` at least, optional ``raw_close, volume`` with volume in shares), read with the data
layer's :func:`engine.data.providers.local.read_symbol_file`. Codes without a file are simply absent from the panel;
the scoring stage reports them as ``no price data``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from engine.data.panel import PANEL_FIELDS, Panel, panel_from_frames
from engine.data.providers.local import read_symbol_file
from engine.symbols import SymbolError, default_benchmark, normalize_symbol, provider_ticker

__all__ = ["codes_for_signals", "panel_from_price_dir", "panel_for_signals"]


def codes_for_signals(signals: pd.DataFrame) -> list[str]:
    """Canonical codes of the signals' stocks plus every benchmark they need, in order of first appearance
    (unreadable codes are skipped; the benchmark a row names is kept even when its code is unreadable)."""
    codes: dict[str, None] = {}
    # distinct (code, benchmark) pairs in order of first appearance: the rules below run once per pair, not per row
    code_ids, code_names = pd.factorize(signals["code"].astype(str), use_na_sentinel=False)
    bench_ids, bench_names = pd.factorize(signals["benchmark"].fillna("").astype(str), use_na_sentinel=False)
    width = max(len(bench_names), 1)
    pairs = pd.unique(code_ids.astype(np.int64) * width + bench_ids)  # in order of first appearance
    code_names, bench_names = np.asarray(code_names, dtype=object), np.asarray(bench_names, dtype=object)
    for code, bench in zip(code_names[pairs // width], bench_names[pairs % width]):
        try:
            canonical = normalize_symbol(code)
            codes[canonical] = None
        except SymbolError:
            canonical = None  # no code: a benchmark it names is still loaded (the row is listed, not dropped)
        try:
            if bench.strip():
                codes[normalize_symbol(bench)] = None
            elif canonical is not None:
                codes[default_benchmark(canonical)] = None
        except SymbolError:
            pass
    return list(codes)


def panel_from_price_dir(codes: Iterable[str], prices_dir: str | Path) -> Panel:
    """Panel of ``codes`` read from ``prices_dir`` (local file names, see module docstring); missing files skipped."""
    root = Path(prices_dir)
    frames: dict[str, pd.DataFrame] = {}
    for code in codes:
        path = root / f"{provider_ticker(code, 'local')}.csv"
        if path.is_file():
            frames[code] = read_symbol_file(path, code)  # the data layer's reader: one way to read a price file
    if not frames:
        raise FileNotFoundError(f"no price file for any of {', '.join(codes)} in {root}")
    return panel_from_frames(frames)


def panel_for_signals(signals: pd.DataFrame, prices: str | Path | Sequence[str | Path] | None = None,
                      offline: bool = True, as_of: object | None = None,
                      fields: Sequence[str] = PANEL_FIELDS, order: str = "C") -> Panel:
    """The panel the signals need, through the data layer's :func:`engine.data.load.load_panel` (the store).

    ``prices``: local sources — folders of per-symbol files and files (per-symbol, or a long parquet such as the
    whole-market file) — served through the store in the order given (:mod:`engine.data.localfiles`); ``None`` =
    what the store already holds (``ratingbt data import``) plus, unless ``offline``, the network providers.
    ``as_of`` bounds the requested range (nothing after it is loaded). Missing symbols are not an error: they come
    back as all-NaN columns and are scored ``no price data``. A source path that does not exist raises
    ``FileNotFoundError`` naming it. ``fields``, ``order``: the panel fields to load and their layout (scoring reads
    ``close`` only, column by column: ``fields=("close",), order="F"``; see ``load_panel``).
    """
    from engine.data.load import load_panel
    from engine.data.providers import make_provider

    codes = codes_for_signals(signals)
    dates = pd.to_datetime(signals["report_date"]).dropna()
    start = (dates.min() - pd.Timedelta(days=31)).normalize() if len(dates) else None
    end = pd.Timestamp(as_of).normalize() if as_of is not None else None
    providers = None
    if prices is not None:
        roots = [Path(p) for p in ([prices] if isinstance(prices, (str, Path)) else prices)]
        for root in roots:
            if not root.exists():
                raise FileNotFoundError(f"--prices {root} does not exist")
        providers = [make_provider("local", roots=roots)]
        if end is None:
            end = pd.Timestamp.today().normalize()
    return load_panel(codes, start, end, offline=offline, providers=providers, on_missing="ignore", fields=fields,
                      order=order)
