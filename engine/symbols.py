"""Canonical security symbols, their market and board, and each provider's ticker for them.

Canonical form (the only form stored in tables, caches and panels):

==============  =================  ==========================================
spelling        canonical          notes
==============  =================  ==========================================
``300474``      ``300474.SZ``      exchange derived from the 6-digit prefix
``sz300474``    ``300474.SZ``      akshare / sina prefix form, any case
``600519.SS``   ``600519.SH``      yfinance suffix for Shanghai
``430017``      ``430017.BJ``      Beijing (4/8/92 prefixes)
``6082. HK``    ``06082.HK``       Hong Kong: always 5 digits, zero padded
``0700.HK``     ``00700.HK``
``1810HK``      ``01810.HK``
``(0460)``      ``00460.HK``       1-5 digits in brackets: an HK code
``06082``       ``06082.HK``       a bare 5-digit number is an HK code
``000300.SH``   ``000300.SH``      CSI 300 (benchmark for A-shares)
``^HSI``        ``HSI``            Hang Seng Index (benchmark for HK)
==============  =================  ==========================================

Indexes (:data:`INDEXES`; board ``index``, never tradable, usable as a benchmark wherever one is named):

==============  =====================  ======================================================================
canonical       index                  also read from
==============  =====================  ======================================================================
``000300.SH``   CSI 300 沪深300         ``000300``, ``SH000300``, ``000300.SS``, ``399300(.SZ)``, ``CSI300``
``000905.SH``   CSI 500 中证500         ``SH000905``, ``000905.SS``, ``399905(.SZ)``, ``CSI500``
``000016.SH``   SSE 50 上证50           ``SH000016``, ``000016.SS``, ``SSE50``
``000852.SH``   CSI 1000 中证1000       ``SH000852``, ``000852.SS``, ``399852(.SZ)``, ``CSI1000``
``000001.SH``   SSE Composite 上证指数   ``SH000001``, ``000001.SS``, ``SSE``
``399001.SZ``   SZSE Component 深证成指  ``399001``, ``SZ399001``
``399006.SZ``   ChiNext 创业板指         ``399006``, ``SZ399006``, ``CHINEXT``
``HSI``         Hang Seng Index        ``^HSI``, ``HKHSI``, 恒生指数
``HSCI``        HS Composite Index     ``^HSCI``, ``HKHSCI``, 恒生综合指数
``HSTECH``      Hang Seng TECH Index   ``^HSTECH``, ``HSTECH.HK``, ``HKHSTECH``, 恒生科技指数
==============  =====================  ======================================================================

Careful: a bare 6-digit code is a stock whenever one exists — ``000001`` is 平安银行 ``000001.SZ``, ``000016`` is
``000016.SZ``, ``000905`` is ``000905.SZ``, ``000852`` is ``000852.SZ``; those indexes need their ``.SH`` /
``SH`` / ``.SS`` spelling. A bare ``000300`` is read as the CSI 300 index ``000300.SH`` (no stock 000300.SZ exists;
the common meaning in reports), and ``399xxx`` is never a stock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from enum import Enum

__all__ = [
    "Board",
    "Market",
    "Symbol",
    "SymbolError",
    "BENCHMARK_CSI300",
    "BENCHMARK_HSI",
    "INDEXES",
    "parse_symbol",
    "normalize_symbol",
    "provider_ticker",
    "default_benchmark",
]

BENCHMARK_CSI300 = "000300.SH"
BENCHMARK_HSI = "HSI"


class SymbolError(ValueError):
    """Raised when a text cannot be read as a security code; the message quotes the text."""


class Market(str, Enum):
    """Where an instrument trades. ``A`` = mainland A-share exchanges (CNY), ``HK`` = HKEX (HKD)."""

    A = "A"
    HK = "HK"


class Board(str, Enum):
    """Board of listing; decides lot size and daily price limits (see REFERENCE §2)."""

    MAIN = "main"          # Shanghai 60xxxx / Shenzhen 00xxxx main boards
    CHINEXT = "chinext"    # Shenzhen 300/301
    STAR = "star"          # Shanghai 688/689
    BSE = "bse"            # Beijing Stock Exchange 4xxxxx/8xxxxx/92xxxx
    HK = "hk"              # HKEX main board / GEM
    INDEX = "index"        # benchmark index, not tradable


@dataclass(frozen=True)
class Symbol:
    """A parsed security: ``code`` is canonical (``300474.SZ``, ``06082.HK``, ``000300.SH``, ``HSI``)."""

    code: str
    market: Market
    board: Board
    exchange: str  # "SH", "SZ", "BJ", "HK"

    @property
    def digits(self) -> str:
        """The numeric part without suffix (``300474``, ``06082``); ``HSI`` for the Hang Seng Index."""
        return self.code.split(".")[0]

    @property
    def is_index(self) -> bool:
        return self.board is Board.INDEX

    @property
    def currency(self) -> str:
        """Trading currency: ``CNY`` for A-shares and CSI 300, ``HKD`` for HK stocks and HSI."""
        return "HKD" if self.market is Market.HK else "CNY"


#: canonical index code -> (market, exchange, English name, aliases besides the canonical code)
INDEXES: dict[str, tuple[Market, str, str, tuple[str, ...]]] = {
    "000300.SH": (Market.A, "SH", "CSI 300", ("000300", "SH000300", "000300.SS", "399300", "399300.SZ",
                                               "SZ399300", "CSI300", "沪深300")),
    "000905.SH": (Market.A, "SH", "CSI 500", ("SH000905", "000905.SS", "399905", "399905.SZ", "SZ399905",
                                               "CSI500", "中证500")),
    "000016.SH": (Market.A, "SH", "SSE 50", ("SH000016", "000016.SS", "SSE50", "上证50")),
    "000852.SH": (Market.A, "SH", "CSI 1000", ("SH000852", "000852.SS", "399852", "399852.SZ", "SZ399852",
                                                "CSI1000", "中证1000")),
    "000001.SH": (Market.A, "SH", "SSE Composite", ("SH000001", "000001.SS", "SSE", "上证指数", "上证综指")),
    "399001.SZ": (Market.A, "SZ", "SZSE Component", ("399001", "SZ399001", "深证成指")),
    "399006.SZ": (Market.A, "SZ", "ChiNext", ("399006", "SZ399006", "CHINEXT", "创业板指")),
    "HSI": (Market.HK, "HK", "Hang Seng Index", ("^HSI", "HKHSI", "恒生指数")),
    "HSCI": (Market.HK, "HK", "Hang Seng Composite Index", ("^HSCI", "HKHSCI", "恒生综合指数")),
    "HSTECH": (Market.HK, "HK", "Hang Seng TECH Index", ("^HSTECH", "HSTECH.HK", "HKHSTECH", "恒生科技指数")),
}
_INDEX_CODES = {code: Symbol(code, market, Board.INDEX, exch) for code, (market, exch, _, _) in INDEXES.items()}
_INDEX_ALIASES = {alias: code for code, (*_, aliases) in INDEXES.items() for alias in (code, *aliases)}

_A_PREFIX_RE = re.compile(r"^(SH|SZ|BJ)\s*(\d{6})$")
_A_SUFFIX_RE = re.compile(r"^(\d{6})\s*\.?\s*(SH|SZ|BJ|SS)$")
_HK_RE = re.compile(r"^(?:HK)?\s*(\d{1,5})\s*\.?\s*(?:HK)?$")
_BRACKETED_RE = re.compile(r"^[（(]\s*(\d{1,6})\s*(?:\.?\s*(HK|SH|SZ|BJ|SS))?\s*[)）]$")


def _a_share(digits: str, exchange: str | None = None) -> Symbol:
    """Build an A-share symbol from 6 digits; the board (and exchange when not given) come from the prefix."""
    if digits.startswith(("688", "689")):
        board, exch = Board.STAR, "SH"
    elif digits.startswith(("60", "90")):
        board, exch = Board.MAIN, "SH"
    elif digits.startswith(("300", "301", "302")):
        board, exch = Board.CHINEXT, "SZ"
    elif digits.startswith(("000", "001", "002", "003", "004", "200")):
        board, exch = Board.MAIN, "SZ"
    elif digits.startswith(("43", "83", "87", "88", "92", "4", "8")):
        board, exch = Board.BSE, "BJ"
    else:
        raise SymbolError(f"{digits!r} is not a known A-share code prefix (60/68 SH, 00/30 SZ, 4/8/92 BJ)")
    if exchange is not None and exchange != exch:
        raise SymbolError(f"code {digits} belongs to {exch}, not {exchange}")
    return Symbol(f"{digits}.{exch}", Market.A, board, exch)


def _hk(digits: str) -> Symbol:
    number = int(digits)
    if number <= 0 or number > 99999:
        raise SymbolError(f"{digits!r} is not a valid HK stock number (1..99999)")
    return Symbol(f"{number:05d}.HK", Market.HK, Board.HK, "HK")


def parse_symbol(text: str) -> Symbol:
    """Parse any spelling seen in reports and tools into a :class:`Symbol`.

    Raises :class:`SymbolError` naming the text when it is not a code. Whitespace, full-width brackets and case
    are ignored. Results are memoised (a whole market's 5,000 codes are parsed many times over a run).
    """
    if not isinstance(text, str):
        text = str(text)
    return _parse_cached(text)


@lru_cache(maxsize=1 << 16)
def _parse_cached(text: str) -> Symbol:
    raw = text.strip().replace("\u3000", " ")
    upper = raw.upper().replace("．", ".")
    if not upper:
        raise SymbolError("empty security code")
    compact = re.sub(r"\s+", "", upper)
    if compact in _INDEX_ALIASES:
        return _INDEX_CODES[_INDEX_ALIASES[compact]]

    m = _BRACKETED_RE.match(compact)
    if m:
        digits, suffix = m.group(1), m.group(2)
        if suffix in (None, "HK") and len(digits) <= 5:
            return _hk(digits)
        return parse_symbol(digits + ("." + suffix if suffix else ""))

    m = _A_PREFIX_RE.match(compact)
    if m:
        return _a_share(m.group(2), m.group(1))
    m = _A_SUFFIX_RE.match(compact)
    if m:
        exch = "SH" if m.group(2) == "SS" else m.group(2)
        return _a_share(m.group(1), exch)
    if re.fullmatch(r"\d{6}", compact):
        return _a_share(compact)
    m = _HK_RE.match(compact)
    if m and ("HK" in compact or len(m.group(1)) == 5):
        return _hk(m.group(1))
    raise SymbolError(
        f"cannot read {text!r} as a security code (expected e.g. 300474, sz300474, 600519.SS, 6082.HK, (0460), HSI)"
    )


def normalize_symbol(text: str) -> str:
    """Return the canonical code string for ``text`` (see module docstring); raises :class:`SymbolError`."""
    return parse_symbol(text).code


def provider_ticker(symbol: str | Symbol, provider: str) -> str:
    """The ticker a provider expects for ``symbol``.

    ``provider`` is ``"akshare"`` (``300474``, ``06082``; indexes ``sh000300`` / ``HSI``), ``"yfinance"``
    (``300474.SZ``, ``600519.SS``, ``0700.HK`` with 4 digits, ``000300.SS``, ``^HSI``) or ``"local"``
    (the file stem of ``shared/data/prices``: ``SZ300474``, ``HK06082``→``HK06082``, ``SH000300``, ``HKHSI``).
    Indexes: akshare ``sh000905`` / ``sz399006`` / ``HSCI``; yfinance ``000905.SS``, ``399006.SZ``, ``^HSI``,
    ``^HSCI``, ``HSTECH.HK``; local ``SH000905``, ``SZ399006``, ``HKHSTECH``.
    """
    sym = symbol if isinstance(symbol, Symbol) else parse_symbol(symbol)
    hk_index = sym.is_index and sym.market is Market.HK
    if provider == "akshare":
        if sym.is_index:
            return sym.code if hk_index else f"{sym.exchange.lower()}{sym.digits}"
        return sym.digits
    if provider == "yfinance":
        if hk_index:
            return "HSTECH.HK" if sym.code == "HSTECH" else f"^{sym.code}"
        if sym.market is Market.HK:
            return f"{int(sym.digits):04d}.HK"
        return f"{sym.digits}.{'SS' if sym.exchange == 'SH' else sym.exchange}"
    if provider == "local":
        if sym.market is Market.HK:
            return f"HK{sym.digits}"
        return f"{sym.exchange}{sym.digits}"
    raise ValueError(f"unknown provider {provider!r}; allowed: akshare, yfinance, local")


def default_benchmark(symbol: str | Symbol) -> str:
    """Benchmark of a market: ``000300.SH`` (CSI 300) for A-shares, ``HSI`` for Hong Kong."""
    sym = symbol if isinstance(symbol, Symbol) else parse_symbol(symbol)
    return BENCHMARK_HSI if sym.market is Market.HK else BENCHMARK_CSI300
