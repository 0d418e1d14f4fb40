"""yfinance provider (network): any ticker Yahoo knows (``600519.SS``, ``300474.SZ``, ``0700.HK``, ``^HSI``).

``yf.download(ticker, start, end + 1 day, auto_adjust=False, actions=False, progress=False, threads=False,
multi_level_index=True, timeout=...)`` returns MultiIndex columns ``(Price, Ticker)`` with ``Open High Low Close
Adj Close Volume`` (``Close`` raw, ``Adj Close`` dividend-adjusted; ``end`` is exclusive). It never raises on
failure: it logs and returns an empty frame, or a frame whose prices are all NaN — both are failures here
(:class:`EmptyResult`). We store ``close = Adj Close``, O/H/L scaled by ``Adj Close / Close``, ``raw_close = Close``,
``adj_factor = Adj Close / Close``; volume is in shares. Yahoo's CSI 300 (``000300.SS``) has gaps: prefer akshare.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from types import ModuleType

import numpy as np
import pandas as pd

from engine.data.providers.base import EmptyResult, ProviderUnavailable, SchemaChanged, finish_frame
from engine.symbols import provider_ticker

__all__ = ["YfinanceProvider", "normalize_yfinance_frame"]


class _CapturingHandler(logging.Handler):
    """Collects the messages yfinance logs during one call (it reports failures only through its logger)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = " ".join(record.getMessage().split())
        if text and text not in self.messages:
            self.messages.append(text)

    def text(self, limit: int = 300) -> str:
        return "; ".join(self.messages)[:limit]


def normalize_yfinance_frame(df: pd.DataFrame | None, ticker: str) -> pd.DataFrame:
    """``date, open, high, low, close, volume, raw_close, adj_factor`` from a ``yf.download`` frame.

    Accepts MultiIndex ``(Price, Ticker)`` columns (either level order) or flat columns. Raises
    :class:`EmptyResult` for an empty or all-NaN frame and :class:`SchemaChanged` when ``Close`` is absent.
    """
    if df is None or len(df) == 0:
        raise EmptyResult(f"yfinance returned an empty frame for {ticker}")
    if isinstance(df.columns, pd.MultiIndex):
        levels = [set(map(str, df.columns.get_level_values(i))) for i in range(df.columns.nlevels)]
        price_level = next((i for i, lv in enumerate(levels) if "Close" in lv), None)
        if price_level is None:
            raise SchemaChanged(f"yfinance frame for {ticker} has no 'Close' column: {list(df.columns)[:8]}")
        other = 1 - price_level if df.columns.nlevels == 2 else None
        if other is not None:
            tickers = list(dict.fromkeys(df.columns.get_level_values(other)))
            pick = ticker if ticker in tickers else tickers[0]
            df = df.xs(pick, axis=1, level=other)
        else:
            df = df.droplevel([i for i in range(df.columns.nlevels) if i != price_level], axis=1)
    cols = {str(c): c for c in df.columns}
    if "Close" not in cols:
        raise SchemaChanged(f"yfinance frame for {ticker} has no 'Close' column: {list(df.columns)}")
    close = pd.to_numeric(df[cols["Close"]], errors="coerce")
    adj = pd.to_numeric(df[cols["Adj Close"]], errors="coerce") if "Adj Close" in cols else close
    if close.isna().all():
        raise EmptyResult(f"yfinance returned only NaN prices for {ticker}")
    factor = adj / close
    out = pd.DataFrame({"date": pd.DatetimeIndex(df.index).tz_localize(None) if getattr(df.index, "tz", None)
                        else pd.DatetimeIndex(df.index)})
    for name in ("Open", "High", "Low"):
        out[name.lower()] = (pd.to_numeric(df[cols[name]], errors="coerce") * factor).to_numpy() \
            if name in cols else np.nan
    out["close"] = adj.to_numpy()
    out["volume"] = pd.to_numeric(df[cols["Volume"]], errors="coerce").to_numpy() if "Volume" in cols else np.nan
    out["raw_close"] = close.to_numpy()
    out["adj_factor"] = factor.to_numpy()
    return out


class YfinanceProvider:
    """Daily bars from yfinance. ``module`` injects a fake ``yfinance`` (anything with ``download``) for tests."""

    name = "yfinance"

    def __init__(self, module: ModuleType | None = None, timeout: float = 20.0, tz_cache: str | None = None):
        self._module = module
        self.timeout = timeout
        self.tz_cache = tz_cache

    @property
    def yf(self):
        if self._module is None:
            try:
                import yfinance  # noqa: PLC0415 - lazy

                if self.tz_cache:
                    yfinance.set_tz_cache_location(self.tz_cache)
                self._module = yfinance
            except ImportError as exc:
                raise ProviderUnavailable(f"yfinance is not installed ({exc})") from exc
        return self._module

    def fetch(self, code: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Bars of ``code`` over ``start..end`` (inclusive; yfinance's ``end`` is exclusive, so +1 day is asked)."""
        ticker = provider_ticker(code, "yfinance")
        # yfinance logs failures instead of raising: keep its messages (for our error) and keep them off the terminal
        yf_logger = logging.getLogger("yfinance")
        captured = _CapturingHandler()
        level, propagate = yf_logger.level, yf_logger.propagate
        yf_logger.addHandler(captured)
        yf_logger.setLevel(logging.WARNING)
        yf_logger.propagate = False
        try:
            # pandas deprecation warnings raised inside yfinance's own code (not actionable by our users); added
            # after the import because yfinance's import puts its own "default" filter for itself first
            yf = self.yf
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance(\.|$)")
            raw = yf.download(ticker, start=start.isoformat(), end=(end + dt.timedelta(days=1)).isoformat(),
                                   auto_adjust=False, actions=False, progress=False, threads=False,
                                   multi_level_index=True, timeout=self.timeout)
        finally:
            yf_logger.removeHandler(captured)
            yf_logger.setLevel(level)
            yf_logger.propagate = propagate
        try:
            df = normalize_yfinance_frame(raw, ticker)
        except EmptyResult as exc:
            reason = captured.text()  # e.g. "Could not resolve host: query2.finance.yahoo.com"
            raise EmptyResult(f"{exc} ({reason})" if reason else str(exc)) from None
        return finish_frame(df, provider=self.name, code=code, start=start, end=end, source="yfinance")
