"""Providers against fakes that reproduce akshare's and yfinance's real return formats (no network)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from engine.data.bars import BAR_COLUMNS, validate_bars
from engine.data.providers import EmptyResult, NotSupported, SchemaChanged, make_provider
from engine.data.providers.akshare import AkshareProvider
from engine.data.providers.local import LocalProvider, read_long_parquet, read_symbol_file
from engine.data.providers.yfinance import YfinanceProvider
from tests.data.fakes import HFQ_FACTOR, TRUTH_DATES, TRUTH_RAW, FakeAkshare, FakeYfinance

START, END = dt.date(2024, 3, 1), dt.date(2024, 3, 12)


def test_akshare_a_share_hfq_raw_and_lots_to_shares():
    fake = FakeAkshare()
    df = AkshareProvider(module=fake).fetch("300474.SZ", START, END)
    assert list(df.columns) == list(BAR_COLUMNS) and validate_bars(df) == []
    assert list(df["date"]) == list(TRUTH_DATES)
    # volume: akshare reports lots of 100 → shares
    np.testing.assert_array_equal(df["volume"].to_numpy(), TRUTH_RAW["lots"].to_numpy() * 100)
    # raw close is the traded price; close is hfq; adj_factor = hfq / raw (hand truth: 1.0 then 1.05)
    np.testing.assert_allclose(df["raw_close"], TRUTH_RAW["close"])
    np.testing.assert_allclose(df["close"], TRUTH_RAW["close"] * HFQ_FACTOR, rtol=1e-6)
    np.testing.assert_allclose(df["adj_factor"], HFQ_FACTOR, rtol=1e-6)
    np.testing.assert_allclose(df["high"], TRUTH_RAW["high"] * HFQ_FACTOR, rtol=1e-6)
    # the return across the ex-date includes the dividend: 10.0*1.05/10.5 - 1 = 0 exactly
    ret = df["close"].iloc[4] / df["close"].iloc[3] - 1
    assert ret == pytest.approx(10.0 * 1.05 / 10.5 - 1, abs=1e-9)
    # both the raw and the hfq series were asked for, with akshare's date format and code
    adjusts = sorted(c[1]["adjust"] for c in fake.calls)
    assert adjusts == ["", "hfq"]
    assert {c[1]["symbol"] for c in fake.calls} == {"300474"}
    assert fake.calls[0][1]["start_date"] == "20240301"


def test_akshare_hk_volume_already_in_shares_and_range_clipped():
    df = AkshareProvider(module=FakeAkshare()).fetch("00700.HK", dt.date(2024, 3, 5), dt.date(2024, 3, 8))
    assert [d.date().isoformat() for d in df["date"]] == ["2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]
    np.testing.assert_array_equal(df["volume"], TRUTH_RAW["lots"].iloc[2:6].to_numpy() * 100)


def test_akshare_hk_falls_back_to_sina_stock_hk_daily():
    fake = FakeAkshare(fail_times=1)  # stock_hk_hist (eastmoney) fails once
    df = AkshareProvider(module=fake).fetch("00700.HK", dt.date(2024, 3, 5), dt.date(2024, 3, 8))
    assert [c[0] for c in fake.calls] == ["stock_hk_hist", "stock_hk_daily", "stock_hk_daily"]
    np.testing.assert_allclose(df["close"], (TRUTH_RAW["close"] * HFQ_FACTOR).iloc[2:6])
    np.testing.assert_allclose(df["raw_close"], TRUTH_RAW["close"].iloc[2:6])
    np.testing.assert_array_equal(df["volume"], TRUTH_RAW["lots"].iloc[2:6].to_numpy() * 100)


def test_akshare_hk_both_endpoints_failing_keeps_first_error_with_note():
    fake = FakeAkshare(fail_times=1)
    fake.stock_hk_daily = None  # not callable → the fallback fails too
    with pytest.raises(ConnectionError) as info:
        AkshareProvider(module=fake).fetch("00700.HK", START, END)
    assert any("stock_hk_daily fallback also failed" in n for n in info.value.__notes__)


@pytest.mark.parametrize("code,func", [("000300.SH", "stock_zh_index_daily"), ("HSI", "stock_hk_index_daily_sina")])
def test_akshare_indexes_use_sina_calls_and_clip_dates(code, func):
    fake = FakeAkshare()
    df = AkshareProvider(module=fake).fetch(code, dt.date(2024, 3, 4), dt.date(2024, 3, 6))
    assert fake.calls[0][0] == func
    assert len(df) == 3
    np.testing.assert_allclose(df["close"], TRUTH_RAW["close"].iloc[1:4] * 300)
    assert (df["adj_factor"] == 1.0).all() and (df["raw_close"] == df["close"]).all()


def test_akshare_changed_column_names_raise_schema_changed_naming_the_field():
    fake = FakeAkshare(rename={"收盘": "收盘价格"})
    with pytest.raises(SchemaChanged, match=r"close.*收盘价格"):
        AkshareProvider(module=fake).fetch("300474.SZ", START, END)


def test_akshare_empty_result():
    with pytest.raises(EmptyResult, match="empty"):
        AkshareProvider(module=FakeAkshare(empty=True)).fetch("300474.SZ", START, END)


def test_akshare_no_rows_in_range_is_empty_result():
    with pytest.raises(EmptyResult, match="300474.SZ"):
        AkshareProvider(module=FakeAkshare()).fetch("300474.SZ", dt.date(2025, 1, 1), dt.date(2025, 2, 1))


def test_yfinance_multiindex_adjusted_and_raw():
    fake = FakeYfinance()
    df = YfinanceProvider(module=fake).fetch("600519.SH", START, END)
    assert fake.calls[0]["tickers"] == "600519.SS"
    assert fake.calls[0]["end"] == "2024-03-13"  # yfinance's end is exclusive
    assert fake.calls[0]["auto_adjust"] is False and fake.calls[0]["progress"] is False
    assert list(df["date"]) == list(TRUTH_DATES)  # tz-aware index → naive local dates
    np.testing.assert_allclose(df["raw_close"], TRUTH_RAW["close"])
    np.testing.assert_allclose(df["close"], TRUTH_RAW["close"] * 0.98)
    np.testing.assert_allclose(df["open"], TRUTH_RAW["open"] * 0.98)
    np.testing.assert_allclose(df["adj_factor"], 0.98)
    np.testing.assert_array_equal(df["volume"], TRUTH_RAW["lots"] * 100)
    assert validate_bars(df) == []


def test_yfinance_hk_ticker_has_four_digits():
    fake = FakeYfinance()
    YfinanceProvider(module=fake).fetch("00700.HK", START, END)
    YfinanceProvider(module=fake).fetch("HSI", START, END)
    assert [c["tickers"] for c in fake.calls] == ["0700.HK", "^HSI"]


@pytest.mark.parametrize("mode,match", [("empty", "empty frame"), ("nan", "only NaN")])
def test_yfinance_silent_failures_are_failures(mode, match):
    with pytest.raises(EmptyResult, match=match):
        YfinanceProvider(module=FakeYfinance(mode)).fetch("600519.SH", START, END)


def test_make_provider_rejects_unknown_name():
    with pytest.raises(ValueError, match="allowed: local, akshare, yfinance"):
        make_provider("wind")


def test_local_per_symbol_csv_a_share_and_index(tmp_path):
    (tmp_path / "SZ300474.csv").write_text(
        "date,open,high,low,close,volume,raw_close,adj_factor,source\n"
        "2024-01-02,70.53,74.48,69.82,72.53,9550941,,,LYH\n"
        "2024-06-05,50.0,51.0,49.0,50.5,100,51.0,0.990196,chandler\n")
    (tmp_path / "HKHSI.csv").write_text("date,open,high,low,close,volume,source\n"
                                        "2024-01-02,17135.12,17135.12,16725.28,16788.55,1720700000,QuantEdge-AI\n")
    prov = LocalProvider([tmp_path])
    a = prov.fetch("300474.SZ", dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert a["close"].tolist() == [72.53, 50.5]
    assert np.isnan(a["raw_close"].iloc[0]) and a["raw_close"].iloc[1] == 51.0
    assert a["volume"].iloc[0] == 9550941  # already shares
    assert a["source"].iloc[0] == "local:SZ300474.csv:LYH"
    h = prov.fetch("HSI", dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    assert h["close"].iloc[0] == 16788.55 and np.isnan(h["adj_factor"].iloc[0])
    with pytest.raises(NotSupported, match="00700.HK"):
        prov.fetch("00700.HK", dt.date(2024, 1, 1), dt.date(2024, 1, 31))


def test_local_long_parquet_volume_lots_to_shares(tmp_path):
    long = pd.DataFrame({"code": ["000001", "000001", "300474"],
                         "date": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-02"]),
                         "open": [8.14, 7.97, 70.0], "high": [8.17, 8.0, 71.0], "low": [7.99, 7.94, 69.0],
                         "close": [7.99, 7.98, 70.5], "volume": [1158366.45, 733610.31, 10.0]})
    path = tmp_path / "market.parquet"
    long.to_parquet(path)
    df = read_long_parquet(path, codes=["000001"])
    assert df["code"].unique().tolist() == ["000001.SZ"]
    np.testing.assert_allclose(df["volume"], [115836645.0, 73361031.0])
    got = LocalProvider([path]).fetch("300474.SZ", dt.date(2024, 1, 1), dt.date(2024, 1, 5))
    assert got["volume"].tolist() == [1000.0] and got["close"].tolist() == [70.5]


def test_local_bad_file_names_the_file(tmp_path):
    bad = tmp_path / "SZ300474.csv"
    bad.write_text("day,price\n2024-01-02,1\n")
    with pytest.raises(ValueError, match=r"SZ300474.csv.*missing column"):
        read_symbol_file(bad)


def test_local_reads_real_shared_files(shared):
    prov = LocalProvider([shared / "data" / "prices"])
    df = prov.fetch("300474.SZ", dt.date(2024, 1, 1), dt.date(2026, 12, 31))
    raw = pd.read_csv(shared / "data" / "prices" / "SZ300474.csv")
    assert len(df) == len(raw) == 494
    np.testing.assert_allclose(df["close"], raw["close"])
    np.testing.assert_allclose(df["adj_factor"].dropna(), raw["adj_factor"].dropna())
    assert validate_bars(df, "300474.SZ") == []
