"""English research reports of foreign brokers → the same :class:`~engine.signals.extract.ReportExtract` as Chinese
ones. :func:`engine.signals.extract.extract_report` hands a text here when :func:`is_english` says so.

Steps of :func:`extract_english` (each a function below):

1. :func:`detect_english_broker` — the broker named most often (first page counted three times), from
   :data:`ENGLISH_BROKERS`, given as the Chinese short name the signals table uses (Goldman Sachs → 高盛).
2. :func:`find_date` — the publication date: a line on page 1 that is a date (``23 July 2026``,
   ``July 21, 2026 04:59 AM GMT``, ``6 July 2026 | 12:12PM HKT``) or ``First Published:``; dates of prices
   (``Price (15 Jul 26)``, ``Close Date``), ``as of`` dates, ``last revised`` and ``Date Established`` are skipped; a
   date without a day (``July 2026``) is no publication date.
3. :func:`find_stock` — the covered stock: a code pair ``2330.TW, 2330 TT`` / ``(ADBE.O, ADBE US)``, a bracketed code
   ``Hon Hai (2317.TW)``, ``Bloomberg VNET US``, a ticker printed with its price currency (``TXN 290.00 USD``), else a
   bracketed code in the body next to the company's name. Codes of the A-share and Hong Kong markets become our
   canonical codes (``0522.HK``/``522 HK`` → ``00522.HK``; ``002158 CH`` → ``002158.SZ``; ``600183.SS`` →
   ``600183.SH``); other markets keep the printed ticker with a market suffix (``2330.TW``, ``ADBE.US``, ``6752.T``,
   ``AIR.FP``, ``000660.KS``) and ``market = "other"``: no price source of ours covers them, so scoring and screening
   list them without prices instead of guessing (see :data:`EXCHANGES`).
4. :func:`find_rating` — ``Rating: BUY``, ``Stock Rating Underweight``, ``Rating`` above ``Market-Perform``, a line that
   is only a rating (``▲Overweight``) with ``Previous: Neutral``, a ``What's Changed`` row ``Rating Equal-weight
   Underweight`` (from → to), a headline ``…; Buy (on CL)``, ``Initiate at BUY``; Citi's numeric codes (``1H`` = Buy,
   risk High). Then :func:`find_action`: initiate / upgrade / downgrade / reiterate from the phrases (``Initiation of
   Coverage``, ``u/g to OW``, ``Downgrade to Underweight``, ``Reiterate Rating``, ``maintain our Market-Perform
   rating``, ``remain OW``), the ▲/▼ marks and the previous rating.
5. :func:`find_target` and :func:`find_price` — ``Price Target (Jun-27):NT$3100.0``, ``12m Price Target: NT$400.00``,
   ``PO: 1,150.00 USD``, ``Price target $240.00``, ``Price target - 12mth (CNY) 12.50``;
   ``Price (16 Jul 26):NT$2470.0``,
   ``Shr price, close (Jul 20, 2026) $234.74``, ``Close Price (USD) 294.19`` with ``Close Date``, ``Price: NT$240.50``
   with ``Price as of 3 Jul 2026 close``. Amounts keep thousands separators out (``W1,564,000`` → 1564000). A printed
   currency that is not the listing's (a US listing priced in CNY) gives way to the listing's currency, with a warning.
6. :func:`parse_english_scale` — the disclosures' rating definitions: each rating word with its definition, read into
   bands (fractions: ``at least 10%`` → [0.10, open]; ``exceed the average … coverage universe`` → [0, open]; ``in
   line`` → no numeric promise), horizon (``12-18 months``, ``six to twelve months``, ``year ahead``), and
   ``scale_type``: ``absolute`` (total return vs the current price), ``relative`` (vs a market index) or ``coverage``
   (vs the analyst's coverage universe), with ``benchmark_promised`` saying what was promised. ``benchmark`` (what
   the row is scored against) is the market's index (CSI 300 / HSI) for a relative scale on an A-share or Hong Kong
   stock and empty otherwise: scoring then uses the market's default index, while ``benchmark_promised`` keeps
   ``coverage universe`` / ``absolute`` visible.

Every field found is recorded in ``provenance`` (page, character offset, verbatim snippet) and the row's ``evidence``
is the snippet where the rating was read; ``confidence`` is lower when the code or rating came from a weaker pattern.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter
from dataclasses import dataclass

from engine.signals.scales import RatingBand, RatingScale, ScalePart, ScaleRegistry
from engine.signals.schema import complete_row
from engine.signals.security_master import SecurityMaster
from engine.signals.text import PAGE_BREAK, page_of
from engine.symbols import SymbolError, default_benchmark, parse_symbol

__all__ = ["is_english", "extract_english", "detect_english_broker", "find_date", "find_stock", "find_rating",
           "find_action", "find_target", "find_price", "parse_english_scale", "ENGLISH_BROKERS", "EXCHANGES",
           "Found", "Stock"]

#: (pattern, Chinese short name used in the signals table, English name). Longest / most specific first.
ENGLISH_BROKERS: list[tuple[str, str, str]] = [
    (r"Goldman\s+Sachs", "高盛", "Goldman Sachs"),
    (r"J\.\s?P\.\s?Morgan|JPMorgan|J\s?P\s?M\s?O\s?R\s?G\s?A\s?N", "摩根大通", "J.P. Morgan"),
    (r"Morgan\s+Stanley", "摩根士丹利", "Morgan Stanley"),
    (r"BofA\s+(?:Securities|Global\s+Research)|BofAS|Merrill\s+Lynch|Bank\s+of\s+America", "美银证券", "BofA Securities"),
    (r"Citi\s+Research|Citigroup\s+Global\s+Markets|\bCiti\b", "花旗", "Citi"),
    (r"\bHSBC\b", "汇丰", "HSBC"),
    (r"\bNomura\b", "野村", "Nomura"),
    (r"Deutsche\s+Bank", "德意志银行", "Deutsche Bank"),
    (r"\bBernstein\b", "伯恩斯坦", "Bernstein"),
    (r"\bJefferies\b", "杰富瑞", "Jefferies"),
    (r"\bUBS\b", "瑞银", "UBS"),
    (r"\bCLSA\b", "里昂证券", "CLSA"),
    (r"\bMacquarie\b", "麦格理", "Macquarie"),
    (r"Credit\s+Suisse", "瑞信", "Credit Suisse"),
    (r"\bBarclays\b", "巴克莱", "Barclays"),
    (r"\bMizuho\b", "瑞穗", "Mizuho"),
    (r"\bDaiwa\b", "大和", "Daiwa"),
    (r"\bCICC\b|China\s+International\s+Capital", "中金公司", "CICC"),
]
_BROKER_RES = [(re.compile(p), zh, en) for p, zh, en in ENGLISH_BROKERS]

#: Exchange suffixes (Reuters/Yahoo ``.X`` and Bloomberg ``XX``) → (our suffix, trading currency). A-share and Hong
#: Kong suffixes map to our canonical codes through :func:`engine.symbols.parse_symbol` instead.
EXCHANGES: dict[str, tuple[str, str]] = {
    **{s: ("US", "USD") for s in ("US", "UN", "UW", "UQ", "O", "OQ", "N", "K", "NAS", "NYSE", "NASDAQ")},
    **{s: ("TW", "TWD") for s in ("TW", "TT", "TWO")},
    **{s: ("KS", "KRW") for s in ("KS", "KQ")},
    **{s: ("T", "JPY") for s in ("T", "JT", "JP")},
    **{s: ("FP", "EUR") for s in ("FP", "PA")},
    **{s: ("GY", "EUR") for s in ("GY", "DE", "GR")},
    **{s: ("LN", "GBP") for s in ("LN", "L")},
    **{s: ("SP", "SGD") for s in ("SP", "SI")},
    **{s: ("AU", "AUD") for s in ("AU", "AX")},
    **{s: ("IN", "INR") for s in ("IN", "NS", "BO")},
}
_CHINA_SUFFIXES = {"HK": "HK", "CH": "", "C1": "SH", "C2": "SZ", "SS": "SH", "SH": "SH", "SZ": "SZ", "CN": ""}
_SUFFIXES = "|".join(sorted(set(EXCHANGES) | set(_CHINA_SUFFIXES), key=len, reverse=True))

#: Rating words (lower case, spaces/hyphens normalised) → the spelling written to the signals table.
RATINGS_EN: dict[str, str] = {
    "strong buy": "Strong Buy", "buy": "Buy", "accumulate": "Accumulate", "add": "Add",
    "overweight": "Overweight", "outperform": "Outperform", "market outperform": "Outperform",
    "equal-weight": "Equal-weight", "equal weight": "Equal-weight", "market-perform": "Market-Perform",
    "market perform": "Market-Perform", "sector perform": "Sector Perform", "peer perform": "Peer Perform",
    "neutral": "Neutral", "hold": "Hold", "in-line": "In-Line",
    "reduce": "Reduce", "underweight": "Underweight", "underperform": "Underperform",
    "market underperform": "Underperform", "sell": "Sell",
}
_ABBREV = {"OW": "Overweight", "EW": "Equal-weight", "UW": "Underweight", "MP": "Market-Perform", "OP": "Outperform",
           "UP": "Underperform", "N": "Neutral"}
_CITI_CODES = {"1": "Buy", "2": "Hold", "3": "Sell"}
_STRENGTH = {"Strong Buy": 3, "Buy": 2, "Outperform": 2, "Overweight": 2, "Accumulate": 1, "Add": 1, "Hold": 0,
             "Neutral": 0, "Equal-weight": 0, "Market-Perform": 0, "Sector Perform": 0, "Peer Perform": 0,
             "In-Line": 0, "Reduce": -1, "Underperform": -2, "Underweight": -2, "Sell": -2}
_RATING_ALT = (r"Strong\s+Buy|Market[\s-]?Outperform|Market[\s-]?Underperform|Market[\s-]Perform|Sector\s+Perform|"
               r"Peer\s+Perform|Equal[\s-]weight|Overweight|Underweight|Outperform|Underperform|Accumulate|"
               r"Neutral|Reduce|Hold|Sell|Buy|Add")
_RATING_WORD = rf"(?:{_RATING_ALT})"
_STOCK_RATING = rf"(?:{_RATING_ALT}|OW|EW|UW|MP|OP)"

_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"))}
_MON = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE_DMY = rf"(\d{{1,2}})\s+({_MON})\s+(\d{{4}}|\d{{2}})"
_DATE_MDY = rf"({_MON})\s+(\d{{1,2}}),?\s+(\d{{4}})"
_DATE_ISO = r"((?:19|20)\d{2})-(\d{2})-(\d{2})"
_DATE_RE = re.compile(rf"\b(?:{_DATE_DMY}|{_DATE_MDY}|{_DATE_ISO})\b")
_DATE_SKIP_RE = re.compile(r"price|close|as of|as at|revised|established|since|until|expir|distribution|"
                           r"completed|data|source|from|to\s*$|\bthru\b|ended", re.IGNORECASE)

_CURRENCY_SYMBOLS = [("NT$", "TWD"), ("HK$", "HKD"), ("US$", "USD"), ("S$", "SGD"), ("A$", "AUD"), ("Rmb", "CNY"),
                     ("RMB", "CNY"), ("CN¥", "CNY"), ("¥", "JPY"), ("€", "EUR"), ("£", "GBP"), ("₩", "KRW"),
                     ("W", "KRW"), ("$", "USD"), ("Rs", "INR")]
_CURRENCY_CODES = ("USD", "HKD", "CNY", "RMB", "TWD", "NTD", "KRW", "JPY", "EUR", "GBP", "SGD", "AUD", "INR", "CHF")
_CUR_PREFIX = "|".join(re.escape(s) for s, _ in _CURRENCY_SYMBOLS)
_CUR_CODE = "|".join(_CURRENCY_CODES)
_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONEY = rf"(?:({_CUR_CODE})\s*)?({_CUR_PREFIX})?\s*({_AMOUNT})(?:\s*(mn|bn|k))?(?:\s*({_CUR_CODE})\b)?"

_DISCLOSURE_HEAD_RE = re.compile(
    r"^(?:Disclosure Appendix|Important Disclosures?|Disclosures|Analyst Certification|Regulatory disclosures|"
    r"Other Important Disclosures|Required Disclosures|Disclosure Section|Analyst Certification and Important "
    r"Disclosures)\b", re.IGNORECASE)


@dataclass
class Found:
    """A value read from the text: ``offset`` into the text, a verbatim ``snippet`` (≤ 120 characters)."""

    value: object
    offset: int
    snippet: str
    strength: float = 1.0


@dataclass
class Stock:
    code: str
    market: str          # "A" / "HK" / "other"
    currency: str        # the listing's trading currency
    ticker: str          # as printed
    name: str = ""


@dataclass
class _Doc:
    text: str
    page1_end: int
    body_end: int

    @property
    def page1(self) -> str:
        return self.text[:self.page1_end]

    @property
    def body(self) -> str:
        return self.text[:self.body_end]


def is_english(text: str, sample: int = 6000) -> bool:
    """True when the report is written in English: fewer than 3 % CJK characters among the letters of its first
    ``sample`` characters (a Chinese report with English template tags stays Chinese)."""
    head = text[:sample]
    cjk = len(re.findall(r"[\u3400-\u9fff]", head))
    latin = len(re.findall(r"[A-Za-z]", head))
    return latin >= 200 and cjk < 0.03 * (cjk + latin)


def _snippet(text: str, start: int, end: int | None = None) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end if end is not None else start)
    line_end = len(text) if line_end < 0 else line_end
    return re.sub(r"\s+", " ", text[line_start:line_end]).strip()[:120]


def _canonical_rating(word: str) -> str:
    key = re.sub(r"\s+", " ", word.replace("▲", "").replace("▼", "")).strip()
    if key.upper() in _ABBREV and key.isupper():
        return _ABBREV[key.upper()]
    key = key.lower().replace("equal weight", "equal-weight")
    key = re.sub(r"market\s*-?\s*perform", "market-perform", key)
    return RATINGS_EN.get(key, "")


def _parse_date(day: str, month: str, year: str) -> dt.date | None:
    try:
        y = int(year)
        y = y + 2000 if y < 100 else y
        return dt.date(y, _MONTHS[month[:3].lower()], int(day))
    except (KeyError, ValueError):
        return None


def _date_of(m: re.Match) -> dt.date | None:
    if m.group(1):
        return _parse_date(m.group(1), m.group(2), m.group(3))
    if m.group(7):
        try:
            return dt.date(int(m.group(7)), int(m.group(8)), int(m.group(9)))
        except ValueError:
            return None
    return _parse_date(m.group(5), m.group(4), m.group(6))


def _amount(text: str, scale: str | None = None) -> float:
    value = float(text.replace(",", ""))
    return value * {"mn": 1e6, "bn": 1e9, "k": 1e3}.get((scale or "").lower(), 1.0)


def _currency(code: str | None, symbol: str | None) -> str:
    if code:
        return {"RMB": "CNY", "NTD": "TWD"}.get(code, code)
    for sym, cur in _CURRENCY_SYMBOLS:
        if symbol == sym:
            return cur
    return ""


# ---------------------------------------------------------------------------------------------------------------

def detect_english_broker(doc_text: str, page1_end: int | None = None) -> tuple[str, str]:
    """(Chinese short name, English name) of the broker named most often; first-page mentions count three times."""
    counts: Counter[int] = Counter()
    page1_end = page1_end if page1_end is not None else len(doc_text)
    for k, (rx, _, _) in enumerate(_BROKER_RES):
        for m in rx.finditer(doc_text):
            counts[k] += 3 if m.start() < page1_end else 1
    if not counts:
        return "", ""
    k = counts.most_common(1)[0][0]
    return _BROKER_RES[k][1], _BROKER_RES[k][2]


def find_date(doc: _Doc) -> Found | None:
    """The publication date (see module docstring, step 2)."""
    best: Found | None = None
    for m in re.finditer(r"(?:First\s+)?Published\s*:?\s*", doc.page1):
        dm = _DATE_RE.match(doc.page1, m.end())
        if dm and (d := _date_of(dm)):
            return Found(d, dm.start(), _snippet(doc.text, dm.start()), 1.0)
    for m in _DATE_RE.finditer(doc.page1):
        d = _date_of(m)
        if d is None:
            continue
        line_start = doc.text.rfind("\n", 0, m.start()) + 1
        line_end = doc.text.find("\n", m.end())
        line = doc.text[line_start:line_end if line_end >= 0 else len(doc.text)]
        before, after = doc.text[line_start:m.start()], doc.text[m.end():line_end if line_end >= 0 else None]
        if _DATE_SKIP_RE.search(before) or "(" in before[-3:]:
            continue
        alone = not re.search(r"[A-Za-z]{3,}", re.sub(r"\b(?:AM|PM|GMT|HKT|UTC|EST|EDT|BST|JST|KST|CST|SGT)\b", "",
                                                        after + before.replace("|", "")))
        strength = 1.0 if alone else 0.5
        if best is None or strength > best.strength:
            best = Found(d, m.start(), re.sub(r"\s+", " ", line).strip()[:120], strength)
        if strength == 1.0:
            break
    return best


def _stock_from(ticker: str, suffix: str) -> Stock | None:
    suffix = suffix.upper()
    if suffix in _CHINA_SUFFIXES:
        exch = _CHINA_SUFFIXES[suffix]
        try:
            sym = parse_symbol(f"{ticker}.{exch}" if exch and exch != "HK" else
                               (f"{ticker}.HK" if suffix == "HK" else ticker))
        except SymbolError:
            return None
        return Stock(sym.code, sym.market.value, sym.currency, ticker)
    if suffix in EXCHANGES:
        ours, cur = EXCHANGES[suffix]
        return Stock(f"{ticker}.{ours}", "other", cur, ticker)
    return None


_PAIR_RE = re.compile(rf"\b([A-Z0-9]{{1,6}})\.({_SUFFIXES})\s*,\s*0*([A-Z0-9]{{1,6}})\s+({_SUFFIXES})\b")
_BRACKET_RE = re.compile(rf"\(\s*([A-Z0-9]{{1,6}})(?:\.|\s)({_SUFFIXES})\s*(?:[,/][^)]{{0,20}})?\)")
_BLOOMBERG_RE = re.compile(rf"\b(?:Bloomberg|BBG|Reuters|RIC|Ticker)(?:\s*\([A-Za-z]{{1,12}}\))?\s*:?\s*"
                           rf"([A-Z0-9]{{1,6}})"
                           rf"(?:\.|\s)({_SUFFIXES})\b")
_TICKER_CUR_RE = re.compile(rf"^\s*([A-Z]{{2,5}})\s+"
                            rf"(?:Close\s+Price\s*\(({_CUR_CODE})\)|({_AMOUNT})\s+({_CUR_CODE})\b)",
                            re.MULTILINE)


def find_stock(doc: _Doc) -> tuple[Found | None, list[Stock]]:
    """The covered stock (step 3) and every other code printed in the body (peers, holdings)."""
    page1 = doc.page1
    for rx, strength in ((_PAIR_RE, 1.0), (_BRACKET_RE, 0.9), (_BLOOMBERG_RE, 0.9)):
        for m in rx.finditer(page1):
            if rx is _PAIR_RE and m.group(1).lstrip("0") != m.group(3):
                continue  # "2330.TW, 2330 TT" and "0836.HK, 836 HK" name one stock twice; anything else is not a pair
            stock = _stock_from(m.group(1), m.group(2))
            if stock is not None:
                stock.name = _name_before(doc.text, m.start())
                return Found(stock, m.start(), _snippet(doc.text, m.start()), strength), _others(doc, stock)
    m = _TICKER_CUR_RE.search(page1)
    if m:
        cur = m.group(2) or m.group(4)
        suffix = next((s for s, (_, c) in EXCHANGES.items() if c == cur and len(s) == 2), None)
        if cur == "HKD" or cur in ("CNY", "RMB"):
            suffix = None
        if suffix:
            stock = Stock(f"{m.group(1)}.{EXCHANGES[suffix][0]}", "other", cur, m.group(1))
            stock.name = _title_name(page1, m.group(1))
            return Found(stock, m.start(), _snippet(doc.text, m.start()), 0.8), _others(doc, stock)
    # a bracketed code in the body next to the company's name (a holding chart, a table)
    name = _first_title(page1)
    candidates = []
    for m in re.finditer(rf"\(\s*([A-Z0-9]{{1,6}})(?:\.|\s)({_SUFFIXES})\s*\)", doc.body):
        stock = _stock_from(m.group(1), m.group(2))
        if stock is None:
            continue
        before = doc.text[max(0, m.start() - 40):m.start()]
        label = before.strip().split("\n")[-1].strip()
        stock.name = label
        score = 1 if label and name and (label.lower() in name.lower() or name.lower() in label.lower()) else 0
        candidates.append((score, m.start(), stock))
    matched = [c for c in candidates if c[0] == 1]
    if matched:
        _, offset, stock = matched[0]
        stock.name = name or stock.name
        return Found(stock, offset, _snippet(doc.text, offset), 0.6), [c[2] for c in candidates if c[2] is not stock]
    return None, [c[2] for c in candidates]


def _others(doc: _Doc, main: Stock) -> list[Stock]:
    out = []
    for m in re.finditer(rf"\(\s*([A-Z0-9]{{1,6}})(?:\.|\s)({_SUFFIXES})\s*\)", doc.body):
        stock = _stock_from(m.group(1), m.group(2))
        if stock is not None and stock.code != main.code:
            out.append(stock)
    return out


_NOT_NAME_RE = re.compile(r"Research|Equity|Securities|Update|Report|Bloomberg|Reuters|Exchange|Rating|Company|"
                          r"Industry|Sector|Price|Target|^(?:Asia|China|Europe|Americas|Date)$", re.IGNORECASE)


def _looks_like_name(line: str) -> bool:
    return (bool(re.fullmatch(r"[A-Z][A-Za-z0-9&.,'\- ]{1,50}", line)) and not _DATE_RE.search(line)
            and not _NOT_NAME_RE.search(line) and not _canonical_rating(line)
            and not any(rx.search(line) for rx, _, _ in _BROKER_RES))


def _name_before(text: str, offset: int) -> str:
    """The company name printed before a code: on the same line (``Adobe Inc. (ADBE.O``), else the page's title."""
    line_start = text.rfind("\n", 0, offset) + 1
    name = text[line_start:offset].strip(" (,")
    if _looks_like_name(name):
        return name[:60]
    return _first_title(text[:offset])


def _first_title(page1: str) -> str:
    for line in page1.split("\n")[:15]:
        line = line.strip()
        if _looks_like_name(line):
            return line
    return ""


def _title_name(page1: str, ticker: str) -> str:
    m = re.search(rf"([A-Z][A-Za-z&.' ]{{2,40}}?)\s*\(\s*{re.escape(ticker)}\s*\)", page1)
    return m.group(1).strip() if m else _first_title(page1)


# ---------------------------------------------------------------------------------------------------------------

_LABELLED_RE = re.compile(
    rf"(?:(?:Stock|Investment)\s+)?Rating\s*[:：]?[ \t]*\n?[ \t]*([▲▼]?)\s*({_RATING_WORD})\b"
    rf"(?:[ \t]+({_RATING_WORD})\b)?", re.IGNORECASE)
_CITI_RE = re.compile(r"\bRating\s*[:：]?\s*([123])([HMLS])\b")
_ALONE_RE = re.compile(rf"^[ \t]*([▲▼]?)[ \t]*({_RATING_WORD})[ \t]*$", re.MULTILINE)
_HEADLINE_RE = re.compile(rf"[;:,]\s*({_RATING_WORD})\s*\((?:on\s+)?(?:CL|Conviction\s+List)\)", re.IGNORECASE)
_PHRASE_RE = re.compile(
    rf"\b(?:Initiat\w*\s+(?:coverage\s+)?(?:at|with|on)\s+(?:an?\s+)?|"
    rf"(?:Maintain|Reiterate|Retain|Keep)\s+(?:our\s+|a\s+|an\s+)?|"
    rf"(?:u/g|upgrad\w*|d/g|downgrad\w*)(?:\s+\w+){{0,3}}?\s+to\s+(?:an?\s+)?|remain\s+)"
    rf"({_STOCK_RATING})\b", re.IGNORECASE)
_PREVIOUS_RE = re.compile(rf"\bPrevious(?:\s+rating)?\s*[:：]\s*({_RATING_WORD})\b", re.IGNORECASE)
_FROM_PREV_RE = re.compile(rf"^[ \t]*[▲▼]?\s*({_RATING_WORD})\s*\(\s*from\s+({_RATING_WORD})\s*\)",
                           re.MULTILINE | re.IGNORECASE)
_FROM_TO_RE = re.compile(rf"\bfrom\s+({_STOCK_RATING})\s+to\s+({_STOCK_RATING})\b", re.IGNORECASE)


def find_rating(doc: _Doc) -> tuple[Found | None, Found | None, str]:
    """(rating, previous rating, risk suffix) of the covered stock (step 4)."""
    page1 = doc.page1
    for m in _CITI_RE.finditer(page1):
        return (Found(_CITI_CODES[m.group(1)], m.start(), _snippet(doc.text, m.start()), 1.0), None, m.group(2))
    for m in _LABELLED_RE.finditer(page1):
        context = doc.text[max(0, m.start() - 25):m.start()].lower()
        if re.search(r"distribution|industry|bbg|consensus|anr", context + m.group(0).lower()):
            continue
        first, second = _canonical_rating(m.group(2)), _canonical_rating(m.group(3) or "")
        if second:  # "Rating Equal-weight Underweight" under "From To": a change
            return (Found(second, m.start(3), _snippet(doc.text, m.start()), 1.0),
                    Found(first, m.start(2), _snippet(doc.text, m.start()), 1.0), "")
        prev = _PREVIOUS_RE.search(page1, m.end(), m.end() + 200)
        return (Found(first, m.start(2), _snippet(doc.text, m.start(2)), 1.0),
                Found(_canonical_rating(prev.group(1)), prev.start(1), _snippet(doc.text, prev.start()), 1.0)
                if prev else None, "")
    for m in _FROM_PREV_RE.finditer(page1[:6000]):  # "Buy (from Hold)"
        return (Found(_canonical_rating(m.group(1)), m.start(1), _snippet(doc.text, m.start(1)), 0.9),
                Found(_canonical_rating(m.group(2)), m.start(2), _snippet(doc.text, m.start(2)), 0.9), "")
    for m in _ALONE_RE.finditer(page1[:6000]):
        rating = _canonical_rating(m.group(2))
        if not rating or rating == "In-Line":
            continue
        prev = _PREVIOUS_RE.search(page1, m.end(), m.end() + 80)
        return (Found(rating, m.start(2), _snippet(doc.text, m.start(2)), 0.9),
                Found(_canonical_rating(prev.group(1)), prev.start(1), _snippet(doc.text, prev.start()), 1.0)
                if prev else None, "")
    for m in _HEADLINE_RE.finditer(doc.body):
        return Found(_canonical_rating(m.group(1)), m.start(1), _snippet(doc.text, m.start(1)), 0.9), None, ""
    for m in _PHRASE_RE.finditer(doc.body):
        rating = _canonical_rating(m.group(1))
        if rating:
            return Found(rating, m.start(1), _snippet(doc.text, m.start()), 0.7), None, ""
    return None, None, ""


_INITIATE_RE = re.compile(r"\bInitiat(?:ion\s+of\s+coverage|e[sd]?\s+(?:coverage|at|with|on)|ing\s+coverage)\b",
                          re.IGNORECASE)
_UPGRADE_RE = re.compile(rf"\b(?:u/g|upgrad(?:e|ed|es|ing))\b(?:\s+\S+){{0,4}}?\s+to\s+(?:an?\s+)?({_STOCK_RATING})\b",
                         re.IGNORECASE)
_DOWNGRADE_RE = re.compile(rf"\b(?:d/g|downgrad(?:e|ed|es|ing))\b(?:\s+\S+){{0,4}}?\s+to\s+(?:an?\s+)?"
                           rf"({_STOCK_RATING})\b", re.IGNORECASE)
_REITERATE_RE = re.compile(
    rf"\b(?:reiterat\w*|maintain\w*|retain\w*|remain\w*|keep\w*|we\s+rate\s+\w+)\s+(?:(?:our|the|a|an|its|at)\s+)?"
    rf"(?:\w+\s+){{0,2}}?(?:({_STOCK_RATING})\b|(?:rating|view|stance)\b)", re.IGNORECASE)


def find_action(doc: _Doc, rating: str, previous: str, mark: str, previous_offset: int = 0) -> Found | None:
    """initiate / upgrade / downgrade / reiterate (step 4); ``None`` when the report states none."""
    body = doc.body
    if previous and rating and previous != rating:
        diff = _STRENGTH.get(rating, 0) - _STRENGTH.get(previous, 0)
        if diff:
            return Found("upgrade" if diff > 0 else "downgrade", previous_offset, f"{previous} → {rating}", 1.0)
    m = _INITIATE_RE.search(body)
    if m:
        return Found("initiate", m.start(), _snippet(body, m.start()), 1.0)
    for rx, action in ((_UPGRADE_RE, "upgrade"), (_DOWNGRADE_RE, "downgrade")):
        for m in rx.finditer(body[:20000]):
            if _canonical_rating(m.group(1)) == rating:
                return Found(action, m.start(), _snippet(body, m.start()), 0.9)
    if mark in "▲▼" and mark:
        return Found("upgrade" if mark == "▲" else "downgrade", 0, mark + rating, 0.8)
    for m in _REITERATE_RE.finditer(body[:20000]):
        word = m.group(1)
        if word and _canonical_rating(word) not in (rating, ""):
            continue
        return Found("reiterate", m.start(), _snippet(body, m.start()), 0.9)
    return None


_PERSON_RE = re.compile(r"^\s*((?:(?:[A-Z][a-zA-Z'\-]*\.?|von|van|de|der|da)\s+){1,3}[A-Z][a-zA-Z'\-]+)(?:,?\s+(?:CFA|Ph\.?D\.?|CPA|AC|FRM))*"
                        r"(?:\s+\+?[\d() \-]{7,}|\s+\S+@\S+)*\s*$", re.MULTILINE)


def find_analysts(doc: _Doc) -> list[str]:
    """Analysts named on page 1: a person's name on the line of, or up to three lines above, an e-mail address
    (``Jane Doe AC`` / ``(852) 2800-0000`` / ``jane.doe@broker.com``)."""
    names: list[str] = []
    lines = doc.page1.split("\n")
    for i, line in enumerate(lines):
        if not re.search(r"[\w.\-]+@[\w\-]+\.[\w.]+", line):
            continue
        for j in range(i, max(-1, i - 4), -1):
            m = _PERSON_RE.match(lines[j])
            if m and not _NOT_NAME_RE.search(m.group(1)) and not any(rx.search(m.group(1)) for rx, _, _ in _BROKER_RES):
                name = re.sub(r"(?:\s+(?:AC|CFA|CPA|FRM))+$", "", m.group(1).strip())
                if name not in names and len(name.split()) <= 4:
                    names.append(name)
                break
    return names


# ---------------------------------------------------------------------------------------------------------------

_TARGET_LABEL = (r"(?:(12|6|18|24)[- ]?(?:m|mth|month)s?\s+)?(?:Price\s+Target|Target\s+Price|Price\s+Objective|"
                 r"Price\s+target|PO|PT|(?<=month\s)target|(?<=m\s)target)\b")
_TARGET_RE = re.compile(
    rf"{_TARGET_LABEL}(?:\s*\(([A-Z][a-z]{{2}}-\d{{2}})\))?(?:\s*-\s*(\d{{1,2}})\s*m(?:th|onths?)?)?"
    rf"(?:\s*\(({_CUR_CODE})\))?\s*[:：]?\s*(?:\n\s*)?(?:[A-Z]{{1,5}}\s+(?=[\d$]))?{_MONEY}", re.IGNORECASE)
_DATE_ANY = rf"(?:\d{{1,2}}\s+{_MON}\s+(?:\d{{4}}|\d{{2}})(?!\d)|{_MON}\s+\d{{1,2}},?\s+\d{{4}})"
_PRICE_RE = re.compile(
    rf"(?:(?<![A-Za-z])Price|Shr\s+price,\s*close|Close\s+Price|Closing\s+price|Last\s+price|Share\s+price)"
    rf"(?:\s*\((?:(?:as\s+)?(?:of|at)\s+)?({_DATE_ANY})\))?(?:\s+(?:at|as\s+of)\s+({_DATE_ANY}))?"
    rf"(?:\s*\(({_CUR_CODE})\))?"
    rf"\s*[:：]?\s*{_MONEY}", re.IGNORECASE)


def _money(m: re.Match, first: int) -> tuple[float, str]:
    """(amount, currency) from the groups of :data:`_MONEY` starting at group ``first``."""
    code1, symbol, amount, scale, code2 = (m.group(first + k) for k in range(5))
    return _amount(amount, scale), _currency(code1 or code2, symbol)


def find_target(doc: _Doc) -> tuple[Found | None, float, str]:
    """(target price, its horizon in months or NaN, currency) — the first labelled target of page 1, else of the
    body (step 5)."""
    for region_end in (doc.page1_end, doc.body_end):
        for m in _TARGET_RE.finditer(doc.text[:region_end]):
            context = doc.text[max(0, m.start() - 12):m.start()]
            if re.search(r"\b(?:Prior|Previous|Old)\b", context, re.IGNORECASE):
                continue
            value, cur = _money(m, 5)
            cur = cur or (m.group(4) or "").replace("RMB", "CNY")
            if value <= 0 or (not cur and "." not in m.group(7) and value < 1):
                continue
            months = m.group(1) or m.group(3)
            line_end = doc.text.find("\n", m.end())
            rest = doc.text[m.end():line_end if line_end >= 0 else len(doc.text)]
            to = re.fullmatch(rf"\s+{_MONEY}\s*", rest)
            if to:  # a "From To" row: "Price Target $365.00 $240.00" — the new target is the last
                value, cur2 = _money(to, 1)
                cur = cur2 or cur
            return (Found(value, m.start(), _snippet(doc.text, m.start()), 1.0),
                    float(months) if months else math.nan, cur)
    return None, math.nan, ""


def find_price(doc: _Doc) -> tuple[Found | None, dt.date | None, str]:
    """(price at report, its date or None, currency) from page 1, else the body (step 5)."""
    for region_end in (doc.page1_end, doc.body_end):
        region = doc.text[:region_end]
        for m in _PRICE_RE.finditer(region):
            before = region[max(region.rfind("\n", 0, m.start()) + 1, m.start() - 10):m.start()]
            if re.search(r"Target|Objective|Obj\.|52-Week|Avg|Prior", before + m.group(0)[:25], re.IGNORECASE):
                continue
            value, cur = _money(m, 4)
            cur = cur or (m.group(3) or "").replace("RMB", "CNY")
            if value <= 0:
                continue
            when = None
            for text in (m.group(1), m.group(2)):
                dm = _DATE_RE.search(text or "")
                if dm:
                    when = _date_of(dm)
            if when is None:
                close = re.search(rf"(?:Close\s+Date|Price\s+as\s+of|Priced\s+as\s+of)\s*:?\s*"
                                  rf"(?:{_DATE_DMY}|{_DATE_MDY})",
                                  doc.text[:doc.body_end], re.IGNORECASE)
                if close:
                    when = (_parse_date(close.group(1), close.group(2), close.group(3)) if close.group(1) else
                            _parse_date(close.group(5), close.group(4), close.group(6)))
            return Found(value, m.start(), _snippet(doc.text, m.start()), 1.0), when, cur
    return None, None, ""


# ---------------------------------------------------------------------------------------------------------------

_DEF_START_RE = re.compile(
    rf"(?:^|\n|\.\s|;\s|\d\s-\s)[ \t]*(?:\d\s*-\s*)?({_RATING_WORD})(?:\s*\([A-Za-z0-9]{{1,4}}(?:\s+or\s+\w+)?\))?"
    rf"\s*(?:stocks?\s+are|rating|[:\-–—\[]|\.\s|is\s)", re.IGNORECASE)
_LIST_DEF_RE = re.compile(rf"({_RATING_WORD})\s*\([A-Z]{{1,2}}\)"
                          rf"(?:\s*,\s*(?:and\s+)?({_RATING_WORD})\s*\([A-Z]{{1,2}}\)){{1,4}}")
_WORDS_NUM = {"one": 1, "three": 3, "six": 6, "nine": 9, "twelve": 12, "eighteen": 18, "twenty-four": 24}


def parse_english_scale(text: str, broker: str) -> tuple[RatingScale | None, str, str, str]:
    """(scale, scale_type, benchmark_promised, evidence) from the disclosures' rating definitions (step 6);
    ``(None, "", "", "")`` when the report does not define its ratings."""
    defs: dict[str, str] = {}
    order: list[str] = []
    evidence = ""
    for m in _DEF_START_RE.finditer(text):
        rating = _canonical_rating(m.group(1))
        if not rating or rating in defs or rating == "In-Line":
            continue
        desc = text[m.end(1):m.end(1) + 400]
        nxt = _DEF_START_RE.search(desc, 5)
        desc = desc[:nxt.start()] if nxt else desc
        if not re.search(r"expect|return|outperform|underperform|outpace|exceed|below|in line|total|relative|"
                         r"upside|index|"
                         r"attractive|recommend|≥|%", desc, re.IGNORECASE):
            continue
        defs[rating] = re.sub(r"\s+", " ", desc).strip()
        order.append(rating)
        if not evidence:
            evidence = re.sub(r"\s+", " ", text[m.start(1):m.start(1) + 200]).strip()
    if len(order) < 2:
        listed = _LIST_DEF_RE.search(text)  # "Buy (B), Neutral (N), Sell (S) Analysts recommend stocks as …"
        if listed is None:
            return None, "", "", ""
        words = [_canonical_rating(w) for w in re.findall(_RATING_WORD, listed.group(0), re.IGNORECASE)]
        desc = re.sub(r"\s+", " ", text[listed.end():listed.end() + 600])
        order = [w for w in dict.fromkeys(words) if w]
        n = len(order)
        type_text = desc
        defs = {w: ("exceed " if k == 0 else "in line " if k < n - 1 else "below ") for k, w in enumerate(order)}
        evidence = re.sub(r"\s+", " ", text[listed.start():listed.start() + 200]).strip()
    else:
        type_text = " ".join(defs.values())
    order.sort(key=lambda r: -_STRENGTH.get(r, 0))
    joined = type_text.lower()
    if "coverage universe" in joined or "coverage cluster" in joined and "%" not in joined or "industry (or" in joined:
        scale_type, promised = "coverage", "coverage universe"
    elif re.search(r"market index|benchmark|msci|s&p|index", joined):
        scale_type, promised = "relative", "market index"
    elif re.search(r"total return|upside|price target|current price|tsr", joined):
        scale_type, promised = "absolute", "absolute"
    else:
        scale_type, promised = "", ""
    if re.search(r"(?:≥|at least)\s*\d", joined):
        scale_type, promised = "absolute", "absolute"
    bands = [_band(r, defs[r]) for r in order]
    for k, band in enumerate(bands):  # a table row "Buy ≥ 10%" states the band outright
        row = re.search(rf"(?m)^\s*{re.escape(band.rating)}\s+(?:≥|>=)\s*(-?\d+(?:\.\d+)?)\s*%", text)
        if row:
            bands[k] = RatingBand(rating=band.rating, low=float(row.group(1)) / 100, high=None)
    horizon = _horizon(text)
    part = ScalePart(horizon_months=horizon, benchmarks={}, bands=bands)
    return (RatingScale(broker=broker, source="report", stock=part), scale_type, promised, evidence[:200])


def _band(rating: str, desc: str) -> RatingBand:
    d = desc.lower().replace("pp", "%").replace(" percent", "%")
    pm = re.search(r"(?:\+/-|±)\s*(\d+(?:\.\d+)?)\s*%", d)
    if pm:
        x = float(pm.group(1)) / 100
        return RatingBand(rating=rating, low=-x, high=x)
    m = re.search(r"(?:≥|at least|more than|greater than|above|exceed\w*\s+\w*\s*by\s*(?:more than\s*)?|"
                  r"by more than)\s*(-?\d+(?:\.\d+)?)\s*%", d)
    down = re.search(r"underperform|below|short|decline|fall|lag|negative", d)
    if m:
        x = float(m.group(1)) / 100
        return RatingBand(rating=rating, low=-x if down and x > 0 else x, high=None) if not down else \
            RatingBand(rating=rating, low=None, high=-abs(x))
    if re.search(r"in line|flat|neither|not assigned|remain flat", d):
        return RatingBand(rating=rating, low=None, high=None)
    if down:
        return RatingBand(rating=rating, low=None, high=0.0)
    if re.search(r"outperform|exceed|above|attractive|buy", d):
        return RatingBand(rating=rating, low=0.0, high=None)
    return RatingBand(rating=rating, low=None, high=None)


def _horizon(text: str) -> str | None:
    m = re.search(r"(\d{1,2})\s*(?:-|–|to)\s*(\d{1,2})[- ]months?", text)
    if m and int(m.group(1)) < int(m.group(2)) <= 36:
        return f"{m.group(1)}-{m.group(2)}" if int(m.group(1)) > 0 else m.group(2)
    m = re.search(r"\b(six|nine|twelve)\s+to\s+(twelve|eighteen|twenty-four)\s+months", text, re.IGNORECASE)
    if m:
        return f"{_WORDS_NUM[m.group(1).lower()]}-{_WORDS_NUM[m.group(2).lower()]}"
    m = re.search(r"\b(\d{1,2})[- ]month\s+(?:period|horizon|view|time|investment)", text)
    if m:
        return m.group(1)
    if re.search(r"in the year ahead|over the next year", text, re.IGNORECASE):
        return "12"
    return None


# ---------------------------------------------------------------------------------------------------------------

def _doc(text: str) -> _Doc:
    text = text.replace("\t", " ").replace("\u00a0", " ")
    first_break = text.find(PAGE_BREAK)
    page1_end = first_break if first_break >= 0 else min(len(text), 6000)
    if page1_end < 1500:  # a cover page: the first two pages are the front
        second = text.find(PAGE_BREAK, page1_end + 1)
        page1_end = second if second >= 0 else len(text)
    body_end = len(text)
    for m in re.finditer(r"^[^\n]*$", text, re.MULTILINE):
        if m.start() > page1_end and len(m.group().strip()) < 70 and _DISCLOSURE_HEAD_RE.match(m.group().strip()):
            body_end = m.start()
            break
    return _Doc(text, page1_end, body_end)


def extract_english(text: str, source: str, registry: ScaleRegistry, master: SecurityMaster):
    """Extract one English report (see module docstring) into a :class:`~engine.signals.extract.ReportExtract`."""
    from engine.signals.extract import ReportExtract, make_signal_id

    out = ReportExtract(source=source)
    doc = _doc(text)
    prov: dict[str, dict] = {}

    def note(name: str, found: Found | None) -> None:
        if found is not None:
            prov[name] = {"page": page_of(doc.text, found.offset), "offset": found.offset, "snippet": found.snippet}

    out.broker, english_name = detect_english_broker(doc.text, doc.page1_end)
    if not out.broker:
        out.warn("broker not found: no known foreign broker name (Goldman Sachs, J.P. Morgan, …) in the text")
    date = find_date(doc)
    note("report_date", date)
    if date is not None:
        out.report_date = date.value
    else:
        out.warn("no publication date with a day printed on the first page: report_date left empty")
    out.report_type = "company"
    out.analysts = find_analysts(doc)
    industry = re.search(r"Industry\s+View\s*[:：]?\s*(Attractive|In-Line|Cautious|Overweight|Neutral|Underweight|"
                         r"Positive|Negative)", doc.page1, re.IGNORECASE)
    if industry:
        out.industry_rating = industry.group(1)
    scale, scale_type, promised, scale_evidence = parse_english_scale(doc.text[doc.body_end:] or doc.text, out.broker)
    reg = registry.get(out.broker) if out.broker else None
    if scale is None and reg is not None:
        scale = reg
        out.warn(f"no rating definitions found in the report; using the registry scale ({reg.source})")
    elif scale is None:
        out.warn("no rating definitions in the report and no registry scale: bands and rating levels left empty")
    out.scale = scale

    stock_f, others = find_stock(doc)
    rating_f, previous_f, risk = find_rating(doc)
    if stock_f is None:
        if rating_f is not None:
            out.warn(f"rating {rating_f.value!r} found but no stock code (e.g. '2330.TW, 2330 TT', 'Name (0700.HK)')")
        else:
            out.warn("no rated stock found: no stock code and no rating on the first page")
        return out
    stock: Stock = stock_f.value
    note("code", stock_f)
    if rating_f is None:
        out.warn(f"{stock.code}: no rating found (Rating: …, Overweight, Buy (on CL), …)")
        return out
    note("rating", rating_f)
    note("previous_rating", previous_f)
    mark = ""
    mark_m = re.search(r"([▲▼])\s*$", doc.text[max(0, rating_f.offset - 3):rating_f.offset])
    if mark_m:
        mark = mark_m.group(1)
    previous = previous_f.value if previous_f is not None else ""
    action_f = find_action(doc, rating_f.value, previous, mark, previous_f.offset if previous_f else 0)
    note("action", action_f)
    target_f, target_months, target_cur = find_target(doc)
    note("target_price", target_f)
    price_f, price_date, price_cur = find_price(doc)
    note("price_at_report", price_f)
    currency = target_cur or price_cur or stock.currency
    if currency and stock.currency and currency != stock.currency:
        out.warn(f"{stock.code}: printed currency {currency} is not the listing's ({stock.currency}); using "
                 f"{stock.currency}")
        currency = stock.currency
    if target_f is None:
        out.info(f"{stock.code}: no target price printed")
    level, low, high = math.nan, math.nan, math.nan
    if scale is not None and scale.stock is not None:
        band = scale.stock.band(rating_f.value)
        if band is not None:
            level = scale.stock.level(rating_f.value)
            low = math.nan if band.low is None else band.low
            high = math.nan if band.high is None else band.high
        else:
            out.warn(f"{stock.code}: rating {rating_f.value!r} is not in {out.broker}'s stock scale "
                     f"({'/'.join(scale.stock.ratings())})")
    confidence = round(min(stock_f.strength, rating_f.strength) * (1.0 if date is not None else 0.8), 2)
    target = target_f.value if target_f is not None else math.nan
    row = complete_row({
        "signal_id": make_signal_id(out.broker, stock.code, out.report_date, "rating"),
        "source": source, "broker": out.broker, "report_date": out.report_date, "date_inferred": False,
        "report_type": out.report_type, "industry": "", "industry_rating": out.industry_rating,
        "code": stock.code, "name": stock.name, "market": stock.market, "kind": "rating",
        "rating": rating_f.value, "rating_level": level, "action": action_f.value if action_f else "",
        "target_price": target, "price_at_report": price_f.value if price_f is not None else math.nan,
        "price_date": price_date, "currency": currency,
        "horizon_months": (scale.stock.horizon_months or "") if scale is not None and scale.stock else "",
        "analysts": ";".join(out.analysts),
        "benchmark": default_benchmark(stock.code) if stock.market in ("A", "HK") and scale_type == "relative" else "",
        "band_low": low, "band_high": high,
        "broker_group": out.broker, "language": "en", "risk_suffix": risk, "previous_rating": previous,
        "target_low": target, "target_high": target, "target_horizon_months": target_months,
        "benchmark_promised": promised, "scale_type": scale_type,
        "scale_source": (scale.source or "") if scale is not None else "",
        "confidence": confidence, "evidence": rating_f.snippet,
        "provenance": json.dumps(prov, ensure_ascii=False, default=str),
    })
    out.rows.append(row)
    if stock.market == "other":
        out.info(f"{stock.code}: listed outside the A-share and Hong Kong markets (market 'other'): kept as printed, "
                 "no price source covers it")
    if others:
        out.info(f"{len({s.code for s in others})} other code(s) named without a rating of this report (peers, "
                 f"holdings): {', '.join(sorted({s.code for s in others}))}")
    if scale_evidence:
        prov["scale"] = {"page": page_of(doc.text, doc.text.find(scale_evidence[:30])), "offset": None,
                         "snippet": scale_evidence[:120]}
        out.rows[-1]["provenance"] = json.dumps(prov, ensure_ascii=False, default=str)
    out.info(f"English report ({english_name}): language en")
    return out
