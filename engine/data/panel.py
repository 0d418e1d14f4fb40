"""The aligned price panel: sessions × assets numpy arrays that every kernel reads.

This module holds the :class:`Panel` container (the contract between the data layer and the kernels) and
:func:`panel_from_frames`, which aligns per-symbol daily bars on a session calendar. Loading from the cache and
providers lives in :mod:`engine.data.load` and ends by calling :func:`panel_from_frames`.

Conventions
-----------
- ``sessions``: ``datetime64[ns]`` array of trading sessions (no time zone, midnight, exchange local date), sorted,
  unique. Shape ``(n_sessions,)``.
- ``codes``: canonical codes (:mod:`engine.symbols`), shape ``(n_assets,)``. Benchmarks (``000300.SH``, ``HSI``)
  are ordinary columns of the panel.
- Price arrays are ``float64`` of shape ``(n_sessions, n_assets)`` in the instrument's own currency (CNY for A-shares
  and CSI 300 points, HKD for HK stocks and HSI points). ``NaN`` means *no bar that session* (not listed yet,
  suspended, delisted, data gap) — never a zero price.
- ``close`` / ``open`` / ``high`` / ``low`` are *adjusted* (forward-adjusted / total-return basis): ratios of them
  are returns including dividends. ``raw_close`` is the traded price (NaN where unknown); compare quoted and
  target prices with it.
- ``volume`` is in shares (not lots). ``tradable`` is ``True`` where a bar exists with volume > 0 (a NaN or zero
  volume means suspended). Index columns are never tradable for order simulation but keep their levels.
- ``fields``: the price fields actually loaded (default all of :data:`PANEL_FIELDS`). A stage that needs only some
  (scoring reads ``close``) may load only those (:func:`engine.data.load.load_panel` ``fields=``); the others are
  then read-only all-NaN views that cost no memory, ``tradable`` is all ``False`` unless ``close`` and ``volume``
  were loaded, and :meth:`Panel.require` names what is missing to a stage that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from engine.symbols import parse_symbol

__all__ = ["Panel", "panel_from_frames", "PANEL_FIELDS", "not_loaded"]

PANEL_FIELDS = ("open", "high", "low", "close", "raw_close", "volume")


def not_loaded(shape: tuple[int, int], fill: object = np.nan) -> np.ndarray:
    """A read-only ``shape`` array of ``fill`` (NaN for a price field, ``False`` for ``tradable``) that uses no
    memory: the stand-in for a field a panel was loaded without (see ``Panel.fields``)."""
    dtype = bool if isinstance(fill, (bool, np.bool_)) else np.float64
    return np.broadcast_to(np.array(fill, dtype=dtype), shape)


@dataclass
class Panel:
    """Aligned daily arrays, sessions × assets (see module docstring for units and NaN meaning)."""

    sessions: np.ndarray
    codes: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    raw_close: np.ndarray
    volume: np.ndarray
    tradable: np.ndarray
    markets: np.ndarray = field(default=None)  # type: ignore[assignment]  # "A" / "HK" per asset
    boards: np.ndarray = field(default=None)   # type: ignore[assignment]  # Board value per asset
    # Date ranges the loader could not fill (engine.data.fetch.MissingRange; empty when complete).
    missing: tuple = field(default=())
    # code -> earliest bar date the data source holds (may precede sessions[0]); a listing-date proxy for the
    # backtest's IPO window, so a stock suspended on the panel's first sessions is not taken for a new listing.
    first_bar_dates: dict = field(default_factory=dict)
    # code -> the origins that served its prices, in order (engine.data.load.sources_table: provider, local file
    # path, mtime, size, SHA-256, first/last date, rows); empty for panels not loaded from the store.
    sources: dict = field(default_factory=dict)
    # The price fields loaded (see module docstring); the others are read-only all-NaN views.
    fields: tuple = PANEL_FIELDS

    def __post_init__(self) -> None:
        n_sessions, n_assets = len(self.sessions), len(self.codes)
        for name in ("open", "high", "low", "close", "raw_close", "volume", "tradable"):
            arr = getattr(self, name)
            if arr.shape != (n_sessions, n_assets):
                raise ValueError(f"Panel.{name} has shape {arr.shape}, expected {(n_sessions, n_assets)}")
        unknown = [name for name in self.fields if name not in PANEL_FIELDS]
        if unknown:
            raise ValueError(f"Panel.fields has {', '.join(map(repr, unknown))}; allowed: {', '.join(PANEL_FIELDS)}")
        if self.markets is None or self.boards is None:
            parsed = [parse_symbol(c) for c in self.codes]
            self.markets = np.array([p.market.value for p in parsed], dtype=object)
            self.boards = np.array([p.board.value for p in parsed], dtype=object)

    def require(self, *names: str, stage: str = "this stage") -> None:
        """Raise ``ValueError`` naming the fields of ``names`` this panel was loaded without (``Panel.fields``)."""
        missing = [name for name in names if name not in self.fields]
        if missing:
            raise ValueError(f"{stage} needs the panel fields {', '.join(missing)}, but the panel was loaded with "
                             f"{', '.join(self.fields) or 'none'} only (load_panel(fields=...))")

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.sessions), len(self.codes)

    def column(self, code: str) -> int:
        """Index of ``code`` (canonical) in the panel; raises ``KeyError`` naming the code."""
        hits = np.flatnonzero(self.codes == code)
        if len(hits) == 0:
            raise KeyError(f"{code} is not in the panel")
        return int(hits[0])

    def subset(self, codes) -> "Panel":
        """A panel with only ``codes`` (canonical, in the order given), same sessions."""
        idx = [self.column(c) for c in codes]
        shape = (len(self.sessions), len(idx))
        arrays = {name: getattr(self, name)[:, idx] if name in self.fields else not_loaded(shape)
                  for name in PANEL_FIELDS}
        arrays["tradable"] = self.tradable[:, idx] if self.tradable.flags.writeable else not_loaded(shape, False)
        return Panel(sessions=self.sessions, codes=self.codes[idx], markets=self.markets[idx],
                     boards=self.boards[idx], missing=self.missing, fields=self.fields,
                     first_bar_dates={c: self.first_bar_dates[c] for c in codes if c in self.first_bar_dates},
                     sources={c: self.sources[c] for c in codes if c in self.sources},
                     **arrays)

    def frame(self, name: str) -> pd.DataFrame:
        """One field as a DataFrame indexed by session with codes as columns (for inspection in pandas)."""
        return pd.DataFrame(getattr(self, name), index=pd.DatetimeIndex(self.sessions, name="date"),
                            columns=pd.Index(self.codes, name="code"))


def panel_from_frames(frames: Mapping[str, pd.DataFrame], sessions: pd.DatetimeIndex | None = None) -> Panel:
    """Align per-symbol daily bars into a :class:`Panel`.

    ``frames`` maps canonical code → DataFrame indexed by date (or with a ``date`` column) holding at least
    ``close``; optional ``open``, ``high``, ``low``, ``raw_close``, ``volume`` (shares). Missing optional columns
    become NaN (``open``/``high``/``low`` fall back to NaN, not to close). ``sessions`` defaults to the union of the
    frames' dates. Rows outside ``sessions`` are dropped; sessions without a row are NaN.
    """
    prepared: dict[str, pd.DataFrame] = {}
    for code, df in frames.items():
        if "date" in df.columns:
            df = df.set_index("date")
        idx = pd.DatetimeIndex(pd.to_datetime(df.index)).tz_localize(None).normalize()
        prepared[code] = df.set_axis(idx)
    if sessions is None:
        union = pd.DatetimeIndex([])
        for df in prepared.values():
            union = union.union(df.index)
        sessions = union
    sessions = pd.DatetimeIndex(sessions).tz_localize(None).normalize().unique().sort_values()
    codes = np.array(list(prepared), dtype=object)
    arrays = {name: np.full((len(sessions), len(codes)), np.nan) for name in PANEL_FIELDS}
    for j, code in enumerate(codes):
        df = prepared[code].reindex(sessions)
        for name in PANEL_FIELDS:
            if name in df.columns:
                arrays[name][:, j] = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
    tradable = np.isfinite(arrays["close"]) & (np.nan_to_num(arrays["volume"], nan=0.0) > 0)
    return Panel(sessions=sessions.to_numpy(dtype="datetime64[ns]"), codes=codes, tradable=tradable, **arrays)
