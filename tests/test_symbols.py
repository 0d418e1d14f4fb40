"""Symbol normalisation: every spelling seen in reports and tools maps to one canonical code."""

import pytest

from engine.symbols import Board, Market, SymbolError, default_benchmark, normalize_symbol, parse_symbol, provider_ticker


@pytest.mark.parametrize(
    "text, expected",
    [
        ("300474", "300474.SZ"),
        ("sz300474", "300474.SZ"),
        ("SZ300474", "300474.SZ"),
        ("300474.SZ", "300474.SZ"),
        ("688981.SH", "688981.SH"),
        ("600519.SS", "600519.SH"),
        ("sh600519", "600519.SH"),
        ("430017", "430017.BJ"),
        ("430017.BJ", "430017.BJ"),
        ("920118", "920118.BJ"),
        ("6082. HK", "06082.HK"),
        ("6082.HK", "06082.HK"),
        ("06082", "06082.HK"),
        ("06082.HK", "06082.HK"),
        ("0700.HK", "00700.HK"),
        ("700.hk", "00700.HK"),
        ("1810HK", "01810.HK"),
        ("(0460)", "00460.HK"),
        ("（0460）", "00460.HK"),
        (" 300474 ", "300474.SZ"),
        ("000300", "000300.SH"),
        ("000300.SH", "000300.SH"),
        ("sh000300", "000300.SH"),
        ("HSI", "HSI"),
        ("^HSI", "HSI"),
        ("000905.SH", "000905.SH"),
        ("sh000905", "000905.SH"),
        ("000905.SS", "000905.SH"),
        ("399905", "000905.SH"),
        ("000016.SH", "000016.SH"),
        ("000852.SS", "000852.SH"),
        ("399006", "399006.SZ"),
        ("sz399006", "399006.SZ"),
        ("000001.SH", "000001.SH"),
        ("SH000001", "000001.SH"),
        ("上证指数", "000001.SH"),
        ("399001.SZ", "399001.SZ"),
        ("^HSCI", "HSCI"),
        ("hstech", "HSTECH"),
        ("HSTECH.HK", "HSTECH"),
        # bare digits stay stocks where a stock exists: 000001 is 平安银行, not the SSE Composite
        ("000001", "000001.SZ"),
        ("000001.SZ", "000001.SZ"),
        ("000016", "000016.SZ"),
        ("000905", "000905.SZ"),
        ("000852", "000852.SZ"),
    ],
)
def test_every_spelling_normalises(text, expected):
    assert normalize_symbol(text) == expected


@pytest.mark.parametrize(
    "code, market, board",
    [
        ("600519.SH", Market.A, Board.MAIN),
        ("000063.SZ", Market.A, Board.MAIN),
        ("002384.SZ", Market.A, Board.MAIN),
        ("300474.SZ", Market.A, Board.CHINEXT),
        ("301391.SZ", Market.A, Board.CHINEXT),
        ("688981.SH", Market.A, Board.STAR),
        ("430017.BJ", Market.A, Board.BSE),
        ("06082.HK", Market.HK, Board.HK),
        ("000300.SH", Market.A, Board.INDEX),
        ("HSI", Market.HK, Board.INDEX),
        ("000905.SH", Market.A, Board.INDEX),
        ("000016.SH", Market.A, Board.INDEX),
        ("000852.SH", Market.A, Board.INDEX),
        ("000001.SH", Market.A, Board.INDEX),
        ("399001.SZ", Market.A, Board.INDEX),
        ("399006.SZ", Market.A, Board.INDEX),
        ("HSCI", Market.HK, Board.INDEX),
        ("HSTECH", Market.HK, Board.INDEX),
        ("000001.SZ", Market.A, Board.MAIN),
    ],
)
def test_board_and_market_from_code(code, market, board):
    sym = parse_symbol(code)
    assert (sym.market, sym.board) == (market, board)


@pytest.mark.parametrize("bad", ["", "abc", "12345678", "300474.HK5", "999999", "300474.SH"])
def test_bad_codes_raise_with_the_text(bad):
    with pytest.raises(SymbolError) as err:
        parse_symbol(bad)
    if bad:
        assert bad.split(".")[0][:6] in str(err.value)


@pytest.mark.parametrize(
    "code, provider, ticker",
    [
        ("300474.SZ", "akshare", "300474"),
        ("06082.HK", "akshare", "06082"),
        ("000300.SH", "akshare", "sh000300"),
        ("HSI", "akshare", "HSI"),
        ("600519.SH", "yfinance", "600519.SS"),
        ("300474.SZ", "yfinance", "300474.SZ"),
        ("00700.HK", "yfinance", "0700.HK"),
        ("06082.HK", "yfinance", "6082.HK"),
        ("000300.SH", "yfinance", "000300.SS"),
        ("HSI", "yfinance", "^HSI"),
        ("300474.SZ", "local", "SZ300474"),
        ("00700.HK", "local", "HK00700"),
        ("HSI", "local", "HKHSI"),
        ("000300.SH", "local", "SH000300"),
    ],
)
def test_provider_tickers(code, provider, ticker):
    assert provider_ticker(code, provider) == ticker


def test_provider_ticker_round_trips_through_parse():
    for code in ["300474.SZ", "600519.SH", "00700.HK", "06082.HK", "HSI", "000300.SH"]:
        for provider in ("akshare", "yfinance", "local"):
            assert normalize_symbol(provider_ticker(code, provider)) == code


def test_default_benchmark_by_market():
    assert default_benchmark("300474") == "000300.SH"
    assert default_benchmark("6082.HK") == "HSI"


@pytest.mark.parametrize("code, akshare, yfinance, local", [
    ("000300.SH", "sh000300", "000300.SS", "SH000300"),
    ("000905.SH", "sh000905", "000905.SS", "SH000905"),
    ("399006.SZ", "sz399006", "399006.SZ", "SZ399006"),
    ("000001.SH", "sh000001", "000001.SS", "SH000001"),
    ("HSI", "HSI", "^HSI", "HKHSI"),
    ("HSCI", "HSCI", "^HSCI", "HKHSCI"),
    ("HSTECH", "HSTECH", "HSTECH.HK", "HKHSTECH"),
])
def test_index_tickers_per_provider_and_local_file_names(code, akshare, yfinance, local):
    assert provider_ticker(code, "akshare") == akshare
    assert provider_ticker(code, "yfinance") == yfinance
    assert provider_ticker(code, "local") == local
    assert normalize_symbol(local) == code  # a local file named by the ticker reads back as the index


def test_index_currency_and_default_benchmarks_unchanged():
    assert parse_symbol("000905.SH").currency == "CNY" and parse_symbol("HSTECH").currency == "HKD"
    assert default_benchmark("000001.SZ") == "000300.SH" and default_benchmark("00700.HK") == "HSI"
