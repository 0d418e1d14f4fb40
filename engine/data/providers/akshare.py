"""akshare provider (network): A-shares, Hong Kong stocks and their indexes (CSI 300/500/1000, SSE 50, HSI …).

Calls used (akshare 1.19; see REFERENCE.md §3):

==============  ==================================================================  =====================================
instrument      call                                                                returned columns → ours
==============  ==================================================================  =====================================
A-share         ``stock_zh_a_hist(symbol="300474", period="daily", start_date=       日期 开盘 收盘 最高 最低 成交量(手)…
                "YYYYMMDD", end_date=..., adjust="")`` and again with ``"hfq"``      → raw and hfq bars; volume ×100
A-share index   ``stock_zh_index_daily(symbol="sh000300")`` (``sh000905``, ``sz399006``   date open high low close volume
                …; whole history)
HK stock        ``stock_hk_hist(symbol="00700", ..., adjust="")`` and ``"hfq"``      same Chinese columns; volume shares
                (eastmoney); if that fails, ``stock_hk_daily(symbol, adjust=""|"hfq")``  date open high low close volume
                (sina, whole history)
HK index        ``stock_hk_index_daily_sina(symbol="HSI")`` (``HSCI``, ``HSTECH``;     date open high low close volume
                whole history)
==============  ==================================================================  =====================================

Stocks are stored as **hfq** (后复权) OHLC — back-adjusted prices do not change when a later dividend is paid, unlike
qfq, so incremental fetches stay consistent — plus the raw close and ``adj_factor = hfq_close / raw_close``.
Index levels are not adjusted (``raw_close = close``, ``adj_factor = 1``). Column names are matched on a list of known
spellings; when none matches, :class:`SchemaChanged` names the missing field and the columns found.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import numpy as np
import pandas as pd

from engine.data.providers.base import (EmptyResult, ProviderUnavailable, SchemaChanged, finish_frame)
from engine.symbols import Market, parse_symbol, provider_ticker

__all__ = ["AkshareProvider", "normalize_akshare_frame", "AKSHARE_COLUMNS"]

# our field → accepted akshare spellings (first match wins)
AKSHARE_COLUMNS = {
    "date": ("日期", "date", "trade_date"),
    "open": ("开盘", "open", "开盘价"),
    "high": ("最高", "high", "最高价"),
    "low": ("最低", "low", "最低价"),
    "close": ("收盘", "close", "收盘价", "latest"),
    "volume": ("成交量", "volume"),
}


def normalize_akshare_frame(df: pd.DataFrame, *, what: str, volume_multiplier: float = 1.0) -> pd.DataFrame:
    """Map an akshare frame (Chinese or English columns) to ``date, open, high, low, close, volume``.

    ``volume_multiplier``: 100 for A-share ``stock_zh_a_hist`` (手 → shares), 1 otherwise. ``what`` names the call
    in errors. Raises :class:`EmptyResult` for ``None``/empty, :class:`SchemaChanged` when a field is not found.
    """
    if df is None or len(df) == 0:
        raise EmptyResult(f"akshare {what} returned an empty frame")
    cols = {str(c).strip(): c for c in df.columns}
    out = {}
    for field, names in AKSHARE_COLUMNS.items():
        hit = next((cols[n] for n in names if n in cols), None)
        if hit is None:
            if field == "volume":
                out[field] = np.nan
                continue
            raise SchemaChanged(f"akshare {what}: no column for {field} (looked for {list(names)}); "
                                f"got {list(df.columns)}")
        out[field] = df[hit].to_numpy()
    frame = pd.DataFrame(out)
    frame["date"] = pd.to_datetime(frame["date"].astype("str"), errors="coerce")
    for c in ("open", "high", "low", "close", "volume"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    frame["volume"] = frame["volume"] * volume_multiplier
    return frame.dropna(subset=["date"])


class AkshareProvider:
    """Daily bars from akshare. ``module`` injects a fake ``akshare`` for tests; by default it is imported lazily."""

    name = "akshare"

    def __init__(self, module: ModuleType | None = None, timeout: float | None = 20.0):
        self._module = module
        self.timeout = timeout

    @property
    def ak(self):
        if self._module is None:
            try:
                import akshare  # noqa: PLC0415 - lazy: importing akshare takes seconds

                self._module = akshare
            except ImportError as exc:
                raise ProviderUnavailable(f"akshare is not installed ({exc})") from exc
        return self._module

    def _hist(self, func_name: str, digits: str, start: dt.date, end: dt.date, adjust: str) -> pd.DataFrame:
        func = getattr(self.ak, func_name, None)
        if func is None:
            raise SchemaChanged(f"akshare has no function {func_name} (package version changed?)")
        kwargs = dict(symbol=digits, period="daily", start_date=start.strftime("%Y%m%d"),
                      end_date=end.strftime("%Y%m%d"), adjust=adjust)
        if func_name == "stock_zh_a_hist" and self.timeout:
            kwargs["timeout"] = self.timeout
        return func(**kwargs)

    def _stock(self, func_name: str, digits: str, start, end, lots: bool) -> pd.DataFrame:
        mult = 100.0 if lots else 1.0
        raw = normalize_akshare_frame(self._hist(func_name, digits, start, end, ""), what=f"{func_name}({digits})",
                                      volume_multiplier=mult)
        adj = normalize_akshare_frame(self._hist(func_name, digits, start, end, "hfq"),
                                      what=f"{func_name}({digits}, hfq)", volume_multiplier=mult)
        merged = adj.merge(raw[["date", "close"]].rename(columns={"close": "raw_close"}), on="date", how="left")
        merged["adj_factor"] = merged["close"] / merged["raw_close"]
        return merged

    def _hk_daily(self, digits: str) -> pd.DataFrame:
        """Sina's ``stock_hk_daily``: raw and hfq whole histories (English columns, volume in shares)."""
        func = getattr(self.ak, "stock_hk_daily", None)
        if func is None:
            raise SchemaChanged("akshare has no function stock_hk_daily (package version changed?)")
        raw = normalize_akshare_frame(func(symbol=digits, adjust=""), what=f"stock_hk_daily({digits})")
        adj = normalize_akshare_frame(func(symbol=digits, adjust="hfq"), what=f"stock_hk_daily({digits}, hfq)")
        merged = adj.merge(raw[["date", "close"]].rename(columns={"close": "raw_close"}), on="date", how="left")
        merged["adj_factor"] = merged["close"] / merged["raw_close"]
        return merged

    def _index(self, func_name: str, symbol: str) -> pd.DataFrame:
        func = getattr(self.ak, func_name, None)
        if func is None:
            raise SchemaChanged(f"akshare has no function {func_name} (package version changed?)")
        df = normalize_akshare_frame(func(symbol=symbol), what=f"{func_name}({symbol})")
        df["raw_close"] = df["close"]
        df["adj_factor"] = 1.0
        return df

    def fetch(self, code: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Bars of ``code`` over ``start..end`` (see the module table for the call per instrument)."""
        try:
            return self._fetch(code, start, end)
        except EmptyResult as exc:
            raise EmptyResult(f"{exc} ({code} {start}..{end})") from None

    def _fetch(self, code: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        sym = parse_symbol(code)
        if sym.is_index and sym.market is Market.A:
            df = self._index("stock_zh_index_daily", provider_ticker(sym, "akshare"))
        elif sym.is_index:
            df = self._index("stock_hk_index_daily_sina", provider_ticker(sym, "akshare"))
        elif sym.market is Market.HK:
            try:
                df = self._stock("stock_hk_hist", sym.digits, start, end, lots=False)
            except Exception as first:  # noqa: BLE001 - eastmoney endpoint down or changed: try sina
                try:
                    df = self._hk_daily(sym.digits)
                except Exception as second:  # noqa: BLE001
                    first.add_note(f"stock_hk_daily fallback also failed: {type(second).__name__}: {second}")
                    raise first from second
        else:
            df = self._stock("stock_zh_a_hist", sym.digits, start, end, lots=True)
        return finish_frame(df, provider=self.name, code=code, start=start, end=end, source="akshare")
