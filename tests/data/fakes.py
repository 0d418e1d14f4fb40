"""Fakes that reproduce the return formats of akshare and yfinance (no network).

The ground truth is a small raw (不复权) price series with one ex-dividend date; the fakes render it the way each
package does, and the tests check our normalised frames against the truth computed by hand here.
"""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd

# 8 sessions of XSHG 2024-03 (raw prices, CNY); ex-dividend on 2024-03-07: hfq factor 1.0 → 1.05
TRUTH_DATES = pd.to_datetime(["2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08",
                              "2024-03-11", "2024-03-12"])
TRUTH_RAW = pd.DataFrame({
    "open": [10.0, 10.2, 10.1, 10.4, 9.9, 10.0, 10.3, 10.5],
    "high": [10.3, 10.4, 10.5, 10.6, 10.1, 10.4, 10.6, 10.7],
    "low": [9.9, 10.0, 10.0, 10.2, 9.8, 9.9, 10.2, 10.3],
    "close": [10.2, 10.1, 10.4, 10.5, 10.0, 10.3, 10.5, 10.6],
    "lots": [1200, 1500, 900, 1100, 2000, 1300, 1000, 1400],  # 手 (lots of 100 shares)
}, index=TRUTH_DATES)
HFQ_FACTOR = pd.Series([1.0, 1.0, 1.0, 1.0, 1.05, 1.05, 1.05, 1.05], index=TRUTH_DATES)


def _em_frame(dates, adjust: str, code: str, lots: bool) -> pd.DataFrame:
    """``stock_zh_a_hist`` / ``stock_hk_hist`` layout: Chinese columns, 日期 as python dates, volume in lots."""
    t = TRUTH_RAW.loc[dates]
    f = HFQ_FACTOR.loc[dates] if adjust == "hfq" else pd.Series(1.0, index=dates)
    vol = t["lots"] if lots else t["lots"] * 100
    return pd.DataFrame({
        "日期": [d.date() for d in dates],
        "股票代码": code,
        "开盘": (t["open"] * f).round(4).to_numpy(),
        "收盘": (t["close"] * f).round(4).to_numpy(),
        "最高": (t["high"] * f).round(4).to_numpy(),
        "最低": (t["low"] * f).round(4).to_numpy(),
        "成交量": vol.astype("int64").to_numpy(),
        "成交额": (t["close"] * t["lots"] * 100).to_numpy(),
        "振幅": 1.0, "涨跌幅": 0.5, "涨跌额": 0.05, "换手率": 0.3,
    })


class FakeAkshare:
    """Stands in for the ``akshare`` module. ``fail_times`` makes the first calls raise ``ConnectionError``;
    ``rename`` maps Chinese column names to other names (a schema change); ``empty`` returns empty frames."""

    def __init__(self, fail_times: int = 0, rename: dict | None = None, empty: bool = False, delay: float = 0.0):
        self.fail_times, self.rename, self.empty, self.delay = fail_times, rename or {}, empty, delay
        self.calls: list[tuple] = []

    def _maybe_fail(self, name, kwargs):
        self.calls.append((name, kwargs))
        if self.delay:
            time.sleep(self.delay)
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("Remote end closed connection without response")

    def _range(self, kwargs):
        s = pd.Timestamp(kwargs["start_date"])
        e = pd.Timestamp(kwargs["end_date"])
        return TRUTH_DATES[(TRUTH_DATES >= s) & (TRUTH_DATES <= e)]

    def stock_zh_a_hist(self, symbol="000001", period="daily", start_date="19700101", end_date="20500101",
                        adjust="", timeout=None):
        self._maybe_fail("stock_zh_a_hist", dict(symbol=symbol, start_date=start_date, end_date=end_date,
                                                 adjust=adjust, timeout=timeout))
        if self.empty:
            return pd.DataFrame()
        df = _em_frame(self._range(dict(start_date=start_date, end_date=end_date)), adjust, symbol, lots=True)
        return df.rename(columns=self.rename)

    def stock_hk_hist(self, symbol="00593", period="daily", start_date="19700101", end_date="22220101", adjust=""):
        self._maybe_fail("stock_hk_hist", dict(symbol=symbol, start_date=start_date, end_date=end_date,
                                               adjust=adjust))
        if self.empty:
            return pd.DataFrame()
        return _em_frame(self._range(dict(start_date=start_date, end_date=end_date)), adjust, symbol,
                         lots=False).rename(columns=self.rename)

    def stock_hk_daily(self, symbol="00981", adjust=""):
        """Sina: whole history, English columns, date as python dates, volume in shares."""
        self.calls.append(("stock_hk_daily", dict(symbol=symbol, adjust=adjust)))
        f = HFQ_FACTOR if adjust == "hfq" else pd.Series(1.0, index=TRUTH_DATES)
        t = TRUTH_RAW
        return pd.DataFrame({"date": [d.date() for d in TRUTH_DATES], "open": (t["open"] * f).to_numpy(),
                             "high": (t["high"] * f).to_numpy(), "low": (t["low"] * f).to_numpy(),
                             "close": (t["close"] * f).to_numpy(), "volume": (t["lots"] * 100.0).to_numpy()})

    def _sina_index(self, name, symbol):
        self._maybe_fail(name, dict(symbol=symbol))
        if self.empty:
            return pd.DataFrame()
        t = TRUTH_RAW * 300  # index points; whole history, like the real calls
        return pd.DataFrame({"date": [d.date() for d in TRUTH_DATES], "open": t["open"].to_numpy(),
                             "high": t["high"].to_numpy(), "low": t["low"].to_numpy(),
                             "close": t["close"].to_numpy(), "volume": (TRUTH_RAW["lots"] * 1e6).to_numpy()})

    def stock_zh_index_daily(self, symbol="sh000922"):
        return self._sina_index("stock_zh_index_daily", symbol)

    def stock_hk_index_daily_sina(self, symbol="CES100"):
        return self._sina_index("stock_hk_index_daily_sina", symbol)


def yf_frame(ticker: str, dates=TRUTH_DATES, adj_factor: float = 0.98, all_nan: bool = False,
             tz: str | None = "Asia/Shanghai") -> pd.DataFrame:
    """What ``yf.download(ticker, auto_adjust=False, multi_level_index=True)`` returns: MultiIndex columns
    (Price, Ticker), Price level sorted (Adj Close, Close, High, Low, Open, Volume), tz-aware 'Date' index."""
    t = TRUTH_RAW.loc[dates]
    idx = pd.DatetimeIndex(dates, name="Date")
    if tz:
        idx = idx.tz_localize(tz)
    data = {
        ("Adj Close", ticker): (t["close"] * adj_factor).to_numpy(),
        ("Close", ticker): t["close"].to_numpy(),
        ("High", ticker): t["high"].to_numpy(),
        ("Low", ticker): t["low"].to_numpy(),
        ("Open", ticker): t["open"].to_numpy(),
        ("Volume", ticker): (t["lots"] * 100).astype("float64").to_numpy(),
    }
    df = pd.DataFrame(data, index=idx)
    df.columns = pd.MultiIndex.from_tuples(df.columns, names=["Price", "Ticker"])
    if all_nan:
        df.loc[:, :] = np.nan
    return df


def yf_empty(ticker: str) -> pd.DataFrame:
    """yfinance's failure result: an empty frame with the (Price, Ticker) columns and no rows."""
    cols = pd.MultiIndex.from_product([["Adj Close", "Close", "High", "Low", "Open", "Volume"], [ticker]],
                                      names=["Price", "Ticker"])
    return pd.DataFrame(columns=cols, index=pd.DatetimeIndex([], name="Date"), dtype=float)


class FakeYfinance:
    """Stands in for the ``yfinance`` module: ``mode`` is "ok", "empty" or "nan"; never raises, like the real one."""

    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.calls: list[dict] = []

    def download(self, tickers, start=None, end=None, **kwargs):
        self.calls.append(dict(tickers=tickers, start=start, end=end, **kwargs))
        if self.mode == "empty":
            return yf_empty(tickers)
        s, e = pd.Timestamp(start), pd.Timestamp(end)  # end exclusive
        dates = TRUTH_DATES[(TRUTH_DATES >= s) & (TRUTH_DATES < e)]
        if len(dates) == 0:
            return yf_empty(tickers)
        return yf_frame(tickers, dates, all_nan=self.mode == "nan")


class ScriptedProvider:
    """A provider whose successive ``fetch`` calls follow a script of outcomes: a DataFrame to return, an exception
    instance to raise, or ("sleep", seconds) to hang; the last outcome repeats."""

    def __init__(self, name: str, script: list):
        self.name = name
        self.script = list(script)
        self.calls: list[tuple] = []

    def fetch(self, code, start, end):
        self.calls.append((code, start, end))
        outcome = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(outcome, tuple) and outcome[0] == "sleep":
            time.sleep(outcome[1])
            return outcome[2] if len(outcome) > 2 else None
        if isinstance(outcome, BaseException):
            raise outcome
        if callable(outcome):
            return outcome(code, start, end)
        return outcome


def bars(dates, close, *, volume=1000.0, source="test", spread=0.01) -> pd.DataFrame:
    """A valid normalised bar frame with open = close, high/low = close ± spread (fractions)."""
    close = np.asarray(close, dtype=float)
    return pd.DataFrame({
        "date": pd.to_datetime(list(dates)).astype("datetime64[ns]"),
        "open": close, "high": close * (1 + spread), "low": close * (1 - spread), "close": close,
        "volume": np.broadcast_to(np.asarray(volume, dtype=float), close.shape).copy(),
        "raw_close": np.nan, "adj_factor": np.nan, "source": source,
    })


def today() -> dt.date:
    return dt.date.today()


__all__ = ["FakeAkshare", "FakeYfinance", "ScriptedProvider", "bars", "yf_frame", "yf_empty", "TRUTH_RAW",
           "TRUTH_DATES", "HFQ_FACTOR", "SimpleNamespace"]


def edit_price_file(path, row: int, **values: float) -> pd.DataFrame:
    """Edit row ``row`` of the price CSV ``path`` in place (``close=99.0, high=99.5`` …) and move its modification
    time 2 s on, as an editor saving the file later would; returns the edited frame."""
    import os

    df = pd.read_csv(path)
    df.loc[row, list(values)] = list(values.values())
    df.to_csv(path, index=False)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    return df
