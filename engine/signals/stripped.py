"""Reading report text without line structure: whitespace-stripped text (a PDF extractor's output with every space
and newline removed, template tags such as ``[Table_StockInfo]`` and ``＃investSuggestion＃`` left in, table cells
run together) and, through :func:`flatten`, any text made flat.

Everything here works on the *flat* text: full-width ASCII forms mapped to ASCII one character for one (so
``（``→``(``, ``：``→``:``, ``１２``→``12``) and whitespace removed; :func:`flatten` returns the map back to offsets of
the original text so provenance can name them.

Pieces (each a function; :mod:`engine.signals.extract` assembles them):

- :func:`is_stripped` — the text has (almost) no whitespace;
- :func:`body_end` — where the rating definitions / disclaimers start (nothing after it is a rating);
- :func:`find_table_rows` — stock rows of tables run together: a code next to a name (``603986.SH兆易创新``,
  ``兆易创新603986``, ``九洲药业(603456)``) or a name alone, followed by cells that are only numbers, at most one
  rating word of the scale (with a risk suffix ``-A`` and an action word ``维持``/``首次``/``新增``) — a row of prose
  is never a row. The price cell is chosen with the table's header (price before or after the EPS/PE blocks);
- :func:`find_industry_rating`, :func:`find_company_rating` — the rating printed in the header block
  (``[Table_Invest]增持|首次评级``, ``投资评级(维持):买入``, ``买入(首次)``, ``买入/首次``) or in the text
  (``维持"买入"评级``, ``首次覆盖,给予"增持"评级``).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from engine.signals.row_price import after_price as _after_price
from engine.signals.row_price import last_price, pe_checked_price, readings
from engine.signals.row_price import pe_hits as _pe_hits
from engine.signals.scales import RATING_WORDS
from engine.symbols import SymbolError, normalize_symbol

__all__ = [
    "ALL_RATING_WORDS", "RATING_RE", "ACTIONS", "flatten", "to_ascii", "is_stripped", "body_end", "TableRow",
    "find_table_rows", "find_company_head", "find_company_rating", "find_industry_rating", "split_number_run",
    "action_code",
]

#: Rating words of Chinese brokers' scales (the registry's words plus spellings seen in real reports).
ALL_RATING_WORDS: tuple[str, ...] = tuple(dict.fromkeys(RATING_WORDS + (
    "优于大势", "同步大势", "落后大势", "领先大势", "审慎增持", "审慎推荐", "强烈推荐", "跑赢大势", "跑输大势",
    "优于大市", "中性", "谨慎增持", "推荐", "增持", "买入",
)))
_RATING_WORDS = tuple(w for w in ALL_RATING_WORDS if w not in ("无评级", "未评级"))
RATING_RE = "|".join(sorted((re.escape(w) for w in _RATING_WORDS), key=len, reverse=True))
_RATING_ONLY_RE = re.compile(RATING_RE)

#: action word as printed → signals vocabulary
ACTIONS = {
    "首次覆盖": "initiate", "首次评级": "initiate", "首次给予": "initiate", "首次": "initiate", "新增": "initiate",
    "维持评级": "reiterate", "维持": "reiterate", "重申": "reiterate",
    "上调评级": "upgrade", "上调": "upgrade", "调高": "upgrade", "提升": "upgrade", "upgrade": "upgrade",
    "下调评级": "downgrade", "下调": "downgrade", "调低": "downgrade", "降低": "downgrade",
}
_ACTION_RE = "首次覆盖|首次评级|首次给予|首次|新增|维持评级|维持|上调评级|上调|调高|下调评级|下调|调低"


def action_code(word: str | None) -> str:
    """``initiate`` / ``reiterate`` / ``upgrade`` / ``downgrade`` for a printed action word, ``""`` otherwise."""
    if not word:
        return ""
    for key, code in ACTIONS.items():
        if word.startswith(key):
            return code
    return ""


_FW = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FW[0x3000] = 0x20
_FW[0x2014] = 0x2014


def to_ascii(text: str) -> str:
    """Full-width ASCII forms → ASCII, one character for one (offsets are preserved)."""
    for ch in set(_FW_CHAR_RE.findall(text)):      # the few distinct ones present, found in one C-level scan
        text = text.replace(ch, _FW_CHARS[ch])
    return text


_FW_CHARS = {chr(k): chr(v) for k, v in _FW.items() if k != v}
# Kangxi radicals and CJK compatibility ideographs that PDF fonts emit for ordinary characters (``2026年4⽉5⽇``)
for _k in list(range(0x2F00, 0x2FD6)) + list(range(0xF900, 0xFADA)):
    _n = unicodedata.normalize("NFKC", chr(_k))
    if len(_n) == 1 and _n != chr(_k):
        _FW_CHARS[chr(_k)] = _n
_FW_CHAR_RE = re.compile("[" + "".join(re.escape(c) for c in _FW_CHARS) + "]")
_SPACE_RE = re.compile(r"\s+")


class OffsetMap:
    """Flat offset → offset in the original text (runs of removed whitespace recorded once each)."""

    def __init__(self, cuts: list[tuple[int, int]]):
        self._flat = [c[0] for c in cuts]   # flat offset where a run of removed characters was
        self._shift = [c[1] for c in cuts]  # characters removed up to and including that run

    def __getitem__(self, i: int) -> int:
        k = bisect.bisect_right(self._flat, i) - 1
        return i + (self._shift[k] if k >= 0 else 0)

    def __len__(self) -> int:  # pragma: no cover - only for truthiness
        return 1


def flatten(text: str) -> tuple[str, OffsetMap]:
    """(flat text, offsets): full-width forms → ASCII, every whitespace character removed; ``offsets[i]`` is the
    offset in ``text`` of flat character ``i``."""
    ascii_text = to_ascii(text)
    cuts: list[tuple[int, int]] = []
    parts: list[str] = []
    removed = 0
    last = 0
    for m in _SPACE_RE.finditer(ascii_text):
        parts.append(ascii_text[last: m.start()])
        removed += m.end() - m.start()
        cuts.append((m.start() - removed + (m.end() - m.start()), removed))
        last = m.end()
    if not cuts:
        return ascii_text, OffsetMap([])
    parts.append(ascii_text[last:])
    return "".join(parts), OffsetMap(cuts)


def is_stripped(text: str) -> bool:
    """True when the text has no line structure to speak of (fewer than one whitespace run per 200 characters)."""
    n = len(text)
    if n < 400:
        return False
    runs = len(re.findall(r"\s+", text[:20000]))
    return runs < min(n, 20000) / 200


# ---------------------------------------------------------------------------------------------------------------
# Where the body ends

_END_RE = re.compile(
    r"(?:分析师声明|分析师承诺|分析师简介|分析师介绍|研究员简介|作者简介|投资评级说明|评级说明|投资评级定义|"
    r"公司评级体系|评级体系|评级标准|免责声明|免责条款|法律声明|特别声明|重要声明|一般声明|"
    r"证券分析师承诺|行业评级体系|股票投资评级说明|投资评级的说明|分析师与研究助理简介)"
)
_HEADER_NOISE_RE = re.compile(r"(?:请务必|敬请|请仔细|请参阅|参见|阅读|之后的|后的|末页|尾页|最后一页)[^。]{0,20}$")


def body_end(flat: str, start_share: float = 0.35) -> int:
    """Offset where the disclaimers / rating definitions begin: the first disclaimer heading after
    ``start_share`` of the text that is not part of a page header such as ``请务必阅读正文之后的免责声明``."""
    lo = int(len(flat) * start_share)
    for m in _END_RE.finditer(flat, lo):
        before = flat[max(0, m.start() - 24): m.start()]
        if _HEADER_NOISE_RE.search(before):
            continue
        return m.start()
    return len(flat)


# ---------------------------------------------------------------------------------------------------------------
# Table rows run together

_CJK = "\u4e00-\u9fff"
_NAME_CH = rf"[{_CJK}A-Za-z*]"
_CODE_A = r"(?:00|30|60|68|83|87|43|92)\d{4}"
# code then name: 603986.SH兆易创新 / 300463迈克生物 / 9988.HK阿里巴巴
_ROW_CODE_FIRST = re.compile(
    rf"({_CODE_A}(?:\.(?i:SH|SZ|BJ|OC|SS))?|(?<![\d.])\d{{4,5}}\.(?i:HK))"
    rf"(\*?(?:ST)?[A-Z]{{0,4}}[{_CJK}][{_CJK}A-Za-z]{{1,9}}(?:-[A-Z]{{1,2}}(?![a-z])[{_CJK}]{{0,6}})?)"
)
# name then code: 华润万东600055 (code glued to the numbers) / 九洲药业(603456) / 奥园健康(3662.HK); the name is
# read backwards from the code (a forward regex over every CJK position would cost ten steps per character)
_ROW_NAME_FIRST = re.compile(
    rf"(?<=[{_CJK}A-Za-z])(?:\(({_CODE_A}(?:\.(?i:SH|SZ|BJ|OC|SS)|CH)?|\d{{4,5}}\.(?i:HK))\)|"
    rf"({_CODE_A})(?:\.(?i:SH|SZ|BJ))?(?=\d|\.\d))"
)
# a name followed directly by numbers (tables without codes); the character before is checked in Python
_ROW_NAME_ONLY = re.compile(r"\d+\.\d")
_NAME_END_RE = re.compile(rf"[{_CJK}A-Z]")
_DIGIT_RUN_RE = re.compile(r"\d{4,}")
_NAME_LEAD_RE = re.compile(r"^(?:重点公司|重点|公司|股票|证券)")
_LIST_COMMA_RE = re.compile(r",(?!\d{3}(?:\D|$))")
_NAME_BACK_RE = re.compile(rf"[{_CJK}A-Za-z*]{{1,12}}(?:-[A-Z]{{1,2}})?$")
_NAME_LEAD_LATIN_RE = re.compile(r"[A-Za-z]+(?=[\u4e00-\u9fff])")


def _name_before(flat: str, pos: int, width: int = 12) -> tuple[int, str]:
    """(start, text) of the run of CJK / Latin letters ending at ``pos`` (at most ``width`` characters)."""
    m = _NAME_BACK_RE.search(flat, max(0, pos - width), pos)
    if not m:
        return pos, ""
    start, text = m.start(), m.group(0)
    lead = _NAME_LEAD_LATIN_RE.match(text)
    if lead and (lead.group(0).islower() or (len(lead.group(0)) == 1 and start > 0 and flat[start - 1].isdigit())):
        start, text = start + lead.end(), text[lead.end():]
    return start, text
_CELL_RE = re.compile(
    rf"(?P<rating>{RATING_RE})(?:-(?P<suffix>[A-E]))?|(?P<action>{_ACTION_RE})(?:评级)?|"
    r"(?P<date>\d{2,4}[-/]\d{1,2}[-/]\d{1,2})|(?P<num>[-+]?\d[\d,]*(?:\.\d+)?%?)|"
    r"(?P<unrated>未评级|无评级|暂无评级|暂无|未覆盖|NA|N/A|亏损)|(?P<unit>亿元|亿|元|倍|x|X)|(?P<punct>[-—*/()|%.,;]+)"
)
_NOT_NAME_RE = re.compile(rf"^(?:{RATING_RE}|{_ACTION_RE}|未评级|无评级|暂无|评级|代码|名称|简称|公司|股票|证券|合计|平均|均值|行业|中位数)")
_HEADER_WORDS_RE = re.compile(
    rf"(?:{RATING_RE}|{_ACTION_RE}|评级|投资评级|最新评级|代码|名称|简称|公司|股票|证券|股价|收盘价|现价|市值|"
    r"总市值|EPS|PE|PB|ROE|估值|预测|盈利|每股收益|市盈率|重点|表\d+|图表\d+|元|亿|倍)+$"
)


@dataclass
class TableRow:
    """One stock row: canonical ``code`` (``""`` when the row prints none), ``name`` as printed, ``rating``
    (``""`` = no rating word in the row), ``suffix`` (risk grade after the word), ``action`` (signals vocabulary),
    ``numbers`` (cells as printed, run together), ``start``/``end`` (flat offsets of the row)."""

    code: str
    name: str
    rating: str
    suffix: str
    action: str
    numbers: str
    start: int
    end: int
    price: float | None = None
    dates: list[str] = field(default_factory=list)
    price_note: str = ""     # why the price was left empty (a run that does not split with certainty)
    price_readings: list[float] = field(default_factory=list)   # the price cell's possible readings then
    price_checked: bool = False   # the price is confirmed by the row's arithmetic (price ÷ EPS = PE)

    @property
    def evidence(self) -> str:
        return ""


def _canon(code: str) -> str | None:
    code = code.replace("CH", "").replace(".SS", ".SH").replace(".OC", ".BJ")
    try:
        return normalize_symbol(code)
    except SymbolError:
        return None


_MARKET_SUFFIX_RE = re.compile(r"(?:CH|CN)(?=[\u4e00-\u9fff])")
_WORD_IN_NAME_RE = re.compile(rf"{RATING_RE}|{_ACTION_RE}|未评级|无评级|暂无|未覆盖")
_NAME_TAIL_WORD_RE = re.compile(rf"(?:{RATING_RE}|{_ACTION_RE})$")
_NAME_CUT_RE = re.compile(rf"(?:{RATING_RE}|{_ACTION_RE}|评级|简称|名称|代码|公司|日期|要点|\))")
_NAME_ONLY_CUT_RE = re.compile(rf"(?:{RATING_RE}|{_ACTION_RE}|评级|简称|名称|代码|公司|[\dAE]\))")
_HEAD_NAME_CUT_RE = re.compile(rf"(?:{RATING_RE}|{_ACTION_RE}|报告|研究|点评|\]|】|》|:|：|评级|公司)")


def _clean_name(name: str) -> str:
    """Strip a rating / action word glued to the end of a name (``迈克生物买入`` → ``迈克生物``)."""
    for _ in range(2):
        m = _NAME_TAIL_WORD_RE.search(name)
        if m and m.start() >= 2:
            name = name[: m.start()]
    return name


def _scan_cells(flat: str, pos: int, limit: int) -> tuple[int, list[re.Match]]:
    """Consume cell tokens from ``pos`` up to ``limit``; returns (end, tokens)."""
    cells = []
    while pos < limit:
        m = _CELL_RE.match(flat, pos, limit)
        if not m or m.end() == pos:
            break
        cells.append(m)
        pos = m.end()
    return pos, cells


def _row_from_cells(cells: list[re.Match]) -> tuple[str, str, str, list[str], list[str]] | None:
    """(rating, suffix, action, numbers, dates) when the cells form a table row, else ``None``."""
    ratings = [(c.group("rating"), c.group("suffix") or "") for c in cells if c.group("rating")]
    nums = [c.group("num") for c in cells if c.group("num")]
    if len({r for r, _ in ratings}) > 1:
        return None
    actions = [c.group("action") for c in cells if c.group("action")]
    dates = [c.group("date") for c in cells if c.group("date")]
    rating, suffix = ratings[0] if ratings else ("", "")
    return rating, suffix, action_code(actions[0]) if actions else "", nums, dates


_NUM_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+\.\d{2}|\d+\.\d(?![\d])|\d+")


def split_number_run(run: str, complete: bool = True) -> list[str] | None:
    """Split numbers printed without separators assuming two decimals each (``63.600.500.79`` →
    ``63.60, 0.50, 0.79``); ``None`` when the run does not split cleanly that way (mixed decimals). With
    ``complete=False`` the tokens read before the first that does not split are returned."""
    out = []
    pos = 0
    run = run.strip("-*")
    while pos < len(run):
        m = _TWO_DEC.match(run, pos)
        if not m:
            return (out or None) if not complete else None
        out.append(m.group(0))
        pos = m.end()
    return out or None


_TWO_DEC = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d{2})?|-?\d{1,4}\.\d{2}")


def _number_stretches(cells: list[re.Match]) -> list[str]:
    """Stretches of numeric cells (numbers and the dots / commas between them) as printed, in row order."""
    out, cur = [], ""
    for c in cells:
        if c.group("num") or (c.group("punct") and c.group("punct") in (".", ",")):
            cur += c.group(0)
        elif cur:
            out.append(cur.strip(".,"))
            cur = ""
    if cur:
        out.append(cur.strip(".,"))
    return [x for x in out if x]


def _number_run(cells: list[re.Match]) -> str:
    """All numeric stretches of a row joined by ``|`` (a rating or unit between them separates them)."""
    return "|".join(_number_stretches(cells))


def _to_float(token: str) -> float | None:
    try:
        return float(token.replace(",", "").rstrip("%"))
    except ValueError:
        return None


_PRICE_COL_RE = re.compile(r"股价|收盘价|现价|昨收盘|最新价|价格|收盘")
_CAP_COL_RE = re.compile(r"市值")
_BLOCK_COL_RE = re.compile(r"EPS|PE|PB|每股收益|市盈率|净利润|营收|收入|ROE|盈利预测|预测")
_HEADER_START_RE = re.compile(r"代码|简称|名称")


def _price_position(header: str) -> str:
    """``first`` / ``second`` (after a market-cap column) / ``last`` / ``""`` from the header text before a table,
    read from the last 代码 / 简称 / 名称 cell on (the title and a first header line above it are not columns)."""
    starts = [m.start() for m in _HEADER_START_RE.finditer(header)]
    if starts:
        header = header[starts[-1]:]
    p = _PRICE_COL_RE.search(header)
    if not p:
        return ""
    block = _BLOCK_COL_RE.search(header)
    if block and block.start() < p.start():
        return "last"
    cap = _CAP_COL_RE.search(header)
    if cap and cap.start() < p.start():
        return "second"
    return "first"


def _row_price(stretches: list[str], where: str) -> float | None:
    """The price cell of a row: the first (or second, after a market-cap column) number of the first numeric
    stretch, or the last number of the last stretch (``where="last"``); numbers split with two decimals."""
    if not stretches:
        return None
    if where == "last":
        run = stretches[-1]
        parts = split_number_run(run)
        if parts:
            return _to_float(parts[-1])
        m = re.search(r"(\d{1,3}\.\d{2})$", run)
        return _to_float(m.group(1)) if m else None
    idx = 1 if where == "second" else 0
    run = stretches[0]
    parts = split_number_run(run, complete=False)
    if parts and idx < len(parts):
        return _to_float(parts[idx])
    if idx == 1 and len(stretches) > 1 and parts and len(parts) == 1:
        # a unit closed the market-cap cell (``536.28亿30.10.51…``): the price opens the next stretch
        idx, run = 0, stretches[1]
        parts = split_number_run(run, complete=False)
        if parts:
            return _to_float(parts[0])
    if idx == 0:
        m = re.match(r"\d{1,3}(?:,\d{3})+\.\d{1,2}|\d+\.\d{1,2}", run)
        return _to_float(m.group(0)) if m else None
    return None


def find_table_rows(flat: str, start: int = 0, end: int | None = None) -> list[TableRow]:
    """Stock rows of run-together tables in ``flat[start:end]`` (see module docstring), in text order.

    A row counts only when at least two numeric cells follow the stock (a name in prose followed by one number
    is not a row) or a rating word follows directly.
    """
    end = len(flat) if end is None else end
    anchors: list[tuple[int, int, int, str, str]] = []  # (start, cells_from, kind, code, name)
    code_first: list[re.Match] = []
    name_first: list[re.Match] = []
    # anchors start at a run of digits: test the two row patterns only there (a scan of every position with
    # these patterns costs ten times more)
    for run in _DIGIT_RUN_RE.finditer(flat, start, end):
        s0, e0 = run.span()
        for pos in {max(s0, e0 - 6), s0}:
            m = _ROW_CODE_FIRST.match(flat, pos, end)
            if m:
                code_first.append(m)
                break
        m = _ROW_NAME_FIRST.match(flat, s0 - 1 if s0 > 0 and flat[s0 - 1] == "(" else s0, end)
        if m:
            name_first.append(m)
    for m in code_first:
        name = m.group(2)
        if _MARKET_SUFFIX_RE.match(name) and _WORD_IN_NAME_RE.match(name, 2) and m.start() > 0:
            # ``美亚光电*002690CH买入…``: a Bloomberg-style market suffix, the name stands before the code
            n_start, before = _name_before(flat, m.start() - (flat[m.start() - 1] == "*"), 10)
            before = _NAME_CUT_RE.split(before)[-1]
            code = _canon(m.group(1))
            if code and len(before) >= 2 and not _NOT_NAME_RE.match(before):
                anchors.append((m.start() - len(before) - (flat[m.start() - 1] == "*"), m.start(2) + 2, 1, code,
                                before))
            continue
        if _WORD_IN_NAME_RE.match(name):
            continue  # digits glued to a rating word (``…0.91605341强烈推荐``): numbers, not a code
        cut = _WORD_IN_NAME_RE.search(name, 2)
        if cut:
            name = name[: cut.start()]
        if _NOT_NAME_RE.match(name) or len(name) < 2:
            continue
        code = _canon(m.group(1))
        if code:
            anchors.append((m.start(), m.start(2) + len(name), 0, code, name))
    for m in name_first:
        raw_code = m.group(1) or m.group(2)
        _, name = _name_before(flat, m.start(), 10)
        # the name is the tail of the CJK run: cut after a header word / rating word glued before it
        name = _NAME_CUT_RE.split(name)[-1]
        if len(name) < 2 or _NOT_NAME_RE.match(name):
            continue
        code = _canon(raw_code)
        if code:
            cells_from = m.end(1) + 1 if m.group(1) else m.end(2)
            if m.group(2):
                tail = flat[m.end(2): m.end(2) + 3]
                if tail.startswith(".S") or tail.startswith(".B"):
                    cells_from = m.end(2) + 3
            anchors.append((m.start() - len(name), cells_from, 1, code, name))
    anchors.sort()
    # drop anchors inside another anchor's span (a code-first match seen again as name-first)
    dedup: list[tuple[int, int, int, str, str]] = []
    for a in anchors:
        if dedup and a[0] < dedup[-1][1]:
            if a[3] == dedup[-1][3] and a[2] == 0 and dedup[-1][2] == 1:
                dedup[-1] = a      # the same code read both ways: the code-first reading keeps the cells
            continue
        dedup.append(a)
    anchors = dedup
    rows: list[TableRow] = []
    for k, (a_start, cells_from, _kind, code, name) in enumerate(anchors):
        limit = anchors[k + 1][0] if k + 1 < len(anchors) else min(end, cells_from + 200)
        limit = min(limit, cells_from + 200)
        pos, cells = _scan_cells(flat, cells_from, limit)
        got = _row_from_cells(cells)
        if got is None:
            continue
        rating, suffix, action, nums, dates = got
        if len(nums) < 1 and not rating:
            continue
        if not rating and len(nums) < 2:
            continue
        rows.append(TableRow(code=code, name=name, rating=rating, suffix=suffix, action=action,
                             numbers=_number_run(cells), start=a_start, end=pos, dates=dates))
    rows.extend(_name_only_rows(flat, start, end, rows))
    rows.sort(key=lambda r: r.start)
    _fill_prices(flat, rows)
    return rows


def _near_rating_words(flat: str, start: int, end: int) -> Iterator[re.Match]:
    """The matches of ``_ROW_NAME_ONLY`` in ``flat[start:end]`` that have a rating word at most 159 characters
    after their start (a name-only row must end with one), as a scan of the whole range would find them: only the
    stretches before rating words are scanned, each from the start of its run of digits and dots."""
    windows: list[list[int]] = []
    for w in _RATING_ONLY_RE.finditer(flat, start, end):
        a, b = max(start, w.start() - 159), w.start()
        if windows and a <= windows[-1][1] + 1:
            windows[-1][1] = b
        else:
            windows.append([a, b])
    for a, b in windows:
        scan = a
        while scan > start and (flat[scan - 1].isdigit() or flat[scan - 1] == "."):
            scan -= 1
        for m in _ROW_NAME_ONLY.finditer(flat, scan, end):
            if m.start() > b:
                break
            if m.start() >= a:
                yield m


def _name_only_rows(flat: str, start: int, end: int, coded: list[TableRow]) -> list[TableRow]:
    """Rows without a code (``三环集团63.60.500.791.1544.5846.9035.73买入``): only when a rating word closes the
    numbers and at least three numbers stand between."""
    spans = sorted((r.start, r.end) for r in coded)
    span_starts = [s for s, _ in spans]
    out = []
    for m in _near_rating_words(flat, start, end):
        if m.start() == 0 or not _NAME_END_RE.match(flat, m.start() - 1):
            continue
        k = bisect.bisect_right(span_starts, m.start()) - 1
        if k >= 0 and spans[k][0] <= m.start() < spans[k][1]:
            continue
        name_start, run = _name_before(flat, m.start(), 13)
        if len(run) < 2 or (name_start > 0 and flat[name_start - 1] == "."):
            continue  # after a ticker such as ``MNSO.N``
        name = _NAME_ONLY_CUT_RE.split(run)[-1]
        name = _NAME_LEAD_RE.sub("", name)
        if not 2 <= len(name) <= 6 or _NOT_NAME_RE.match(name):
            continue
        pos, cells = _scan_cells(flat, m.start(), min(end, m.start() + 160))
        got = _row_from_cells(cells)
        if got is None:
            continue
        # the row ends at its rating word (and an action word right after it)
        idx = next(i for i, c in enumerate(cells) if c.group("rating")) if got and got[0] else None
        if idx is None:
            continue
        stop = idx + 1
        while stop < len(cells) and (cells[stop].group("action") or cells[stop].group("punct") == "-"):
            stop += 1
        cells = cells[:stop]
        pos = cells[-1].end()
        got = _row_from_cells(cells)
        if got is None:
            continue
        rating, suffix, action, nums, dates = got
        if not rating or len(nums) < 1:
            continue
        run_text = _number_run(cells)
        if max((x.count(".") for x in run_text.split("|")), default=0) < 2:
            continue
        if _LIST_COMMA_RE.search(run_text) or name[-1] in "为是至到约和及":
            continue
        # the rating word must close the row (prose such as "…增长12.8%，买入…" is cut before it)
        last = cells[-1]
        if not (last.group("rating") or last.group("action")):
            continue
        out.append(TableRow(code="", name=name, rating=rating, suffix=suffix, action=action, numbers=run_text,
                            start=m.start() - len(name), end=pos, dates=dates))
    return out


#: headers of tables whose 增持/减持 words are shareholder trades, and of comparables tables: no ratings there
_NOT_RATING_TABLE_RE = re.compile(r"增减持|增减仓|变动方向|变动次数|净买入|净卖出|股东|解禁|大宗交易|回购|可比|同行|同业")
_PAGE_NOISE_RE = re.compile(r"(?:请参阅|请务必|敬请|请仔细)[^。]{0,40}?(?:声明|部分|条款)")
_NEW_TABLE_RE = re.compile(r"代码|名称|简称|评级|表\d|图\d|图表")


def _groups(flat: str, rows: list[TableRow]) -> list[tuple[str, list[TableRow]]]:
    """Rows grouped into tables, each with the header text before its first row: a new table starts after a gap of
    more than 40 characters, unless the gap is only a page header (``行业周报17/22请参阅…``)."""
    out: list[tuple[str, list[TableRow]]] = []
    prev_end = -10_000
    for row in rows:
        gap = flat[max(prev_end, 0): row.start] if 0 <= row.start - prev_end < 120 else "x" * 99
        if not out or row.start - prev_end > 40 or len(gap) > 3:
            header = flat[max(0, row.start - 320): row.start]
            cut = max(header.rfind("。"), header.rfind("资料来源"))
            header = header[cut + 1:] if cut >= 0 else header
            gap_text = _PAGE_NOISE_RE.sub("", gap)
            if not out or not (row.start - prev_end < 120 and not _NEW_TABLE_RE.search(gap_text)):
                out.append((header, []))
        out[-1][1].append(row)
        prev_end = row.end
    return out


def _header_after(flat: str, group: list[TableRow], next_start: int) -> str:
    """A table header printed right after the table's rows (PDF extractors emit some headers after the body):
    the text after the last row, up to the next table's first row or 200 characters, when it names columns."""
    tail = flat[group[-1].end: min(next_start, group[-1].end + 200)]
    cut = tail.find("。")
    tail = tail[:cut] if cut >= 0 else tail
    return tail if _HEADER_START_RE.search(tail) else ""


_YEAR_RE = re.compile(r"(?:19|20)\d{2}(?:[AEF]|年)?")


def _forecast_years(header: str) -> int | None:
    """Number of years in each EPS / PE block of a header (``EPS PE 2019 2020E 2021E 2019 2020E 2021E`` → 3)."""
    starts = [m.start() for m in _HEADER_START_RE.finditer(header)]
    text = header[starts[-1]:] if starts else header
    if not (_BLOCK_COL_RE.search(text)):
        return None
    years = len(_YEAR_RE.findall(text))
    return years // 2 if years >= 4 and years % 2 == 0 else None


_TITLE_RE = re.compile(r"(?:图表|表|图)\d{1,3}")
_HEAD_ACTION_RE = re.compile(r"(?<!行业)(?:评级|投资建议)\(?(首次覆盖|首次|维持)\)?(?![\u4e00-\u9fff]{0,2}评级)")
_NOTE_ACTION_RE = re.compile(r"^[^。]{0,40}?注\d?:[^。]{0,40}?(?:评级|公司)[^。]{0,10}?均(?:为|是)?(首次覆盖|首次|维持)")


def _table_action(header: str, after: str) -> str:
    """An action printed once for a whole table: in its title or rating column title (``投资评级(维持)``,
    ``重点公司评级(首次)``) or in a note after its rows (``注:以上公司评级均为维持``); ``""`` when none."""
    titles = list(_TITLE_RE.finditer(header))
    cols = header[titles[-1].start():] if titles else header[-200:]
    m = _HEAD_ACTION_RE.search(cols) or _NOTE_ACTION_RE.search(after)
    return action_code(m.group(1)) if m else ""


def _fill_prices(flat: str, rows: list[TableRow]) -> None:
    """Price cell of each row, by the header of its table (the text before the first row of a group, else a header
    printed right after the rows) and the row's own arithmetic (:mod:`engine.signals.row_price`); rows of
    shareholder-trade and comparables tables lose their rating word (they become mentions)."""
    groups = _groups(flat, rows)
    for k, (header, group) in enumerate(groups):
        where = _price_position(header)
        if not where:
            after = _header_after(flat, group, groups[k + 1][1][0].start if k + 1 < len(groups) else len(flat))
            if _price_position(after):
                header, where = after, _price_position(after)
        years = _forecast_years(header) if where == "last" else None
        shared = _table_action(header, flat[group[-1].end: group[-1].end + 160])
        for row in group:
            if row.rating and _NOT_RATING_TABLE_RE.search(header):
                row.rating, row.suffix, row.action = "", "", ""
            if row.rating and not row.action and shared:
                row.action = shared
            if not row.numbers:
                continue
            stretches = row.numbers.split("|")
            if where == "last":
                confirmed, _ = last_price(stretches[-1], years, checked_only=True)
                parts = split_number_run(stretches[-1])    # every cell with two decimals: the split is certain
                if parts:
                    row.price, row.price_note = _to_float(parts[-1]), ""
                elif confirmed is not None:
                    row.price, row.price_note = confirmed, ""
                else:
                    row.price, row.price_note = last_price(stretches[-1], years)
                row.price_checked = confirmed is not None and confirmed == row.price
                row.price_readings = readings(stretches[-1]) if row.price_note else []
                if row.price is not None or pe_checked_price(row.numbers) is None:
                    continue
            else:
                row.price = _row_price(stretches, where or "first")
            hits = _pe_hits(row.numbers, row.price, _after_price(row.numbers, row.price))
            row.price_checked = hits > 0
            if not hits:
                checked = pe_checked_price(row.numbers)
                # a price read by the header is only overruled by a number that three EPS/PE pairs confirm
                if checked is not None and (row.price is None or _pe_hits(row.numbers, checked,
                                                                            _after_price(row.numbers, checked)) >= 3):
                    row.price, row.price_note, row.price_readings, row.price_checked = checked, "", [], True


# ---------------------------------------------------------------------------------------------------------------
# Company header and ratings

_HEAD_PAIR_RE = re.compile(
    rf"([{_CJK}A-Za-z]{{2,10}})\((({_CODE_A})(?:\.(?:SH|SZ|BJ|OC))?|\d{{4,5}}\.HK|{_CODE_A}CH)\)"
)


_CODE_RATING_RE = re.compile(rf"(?<![\d.])({_CODE_A}(?:\.(?:SH|SZ|BJ))?|\d{{4,5}}\.HK)(?:{RATING_RE})")


#: template tags of some brokers' text exports: ``#dyCompany#华熙生物#dyStockcode#688363#``
_TAG_PAIR_RE = re.compile(r"#dyCompany#([^#]{2,12})#dyStockcode#(\d{6}|\d{4,5}\.HK)")


def find_company_head(flat: str, limit: int = 2500) -> tuple[str, str, int] | None:
    """(name, code, offset) of the company a company report is about: the ``名称(代码)`` pair printed most often in
    the first ``limit`` characters (ties: the first)."""
    found: list[tuple[int, str, str]] = []
    for m in _HEAD_PAIR_RE.finditer(flat, 0, min(len(flat), limit)):
        code = _canon(m.group(2))
        if not code:
            continue
        name = m.group(1)
        name = _HEAD_NAME_CUT_RE.split(name)[-1] or name
        name = re.sub(r"^(?:深度|首次覆盖|公司)", "", name)
        found.append((m.start(), code, name))
    if not found:
        m = _TAG_PAIR_RE.search(flat)
        if m:
            code = _canon(m.group(2))
            if code:
                return m.group(1), code, m.start()
        m = _CODE_RATING_RE.search(flat, 0, min(len(flat), 600))
        if m:
            code = _canon(m.group(1))
            if code:
                return "", code, m.start()
        return None
    counts = Counter(code for _, code, _ in found)
    best = max(counts.values())
    for pos, code, name in found:
        if counts[code] == best:
            return name, code, pos
    return None


# header-block forms, most specific first; group "r" = rating, "s" = suffix, "a" = action, "p" = previous
_R = rf"(?P<r>{RATING_RE})(?:-(?P<s>[A-E]))?"
_A = rf"(?P<a>{_ACTION_RE})"
_HEAD_FORMS = [
    re.compile(rf"(?:投资)?评级\({_A}(?:评级)?\):?{_R}"),                                # 投资评级(维持):买入
    re.compile(rf"(?:投资|公司|股票)?评级:?{_R}\(?{_A}?(?:评级)?\)?(?:上次评级:?(?P<p>{RATING_RE}|首次覆盖|首次评级|首次|-)?)?"),
    re.compile(rf"(?:\[Table_Invest\]|\[table_invest\]|＃investSuggestion＃|#investSuggestion#|\[Table_Rank\]|"
               rf"\[Table_InvestInfo\]|\[Table_StockInfo\][^\[]{{0,30}}?\)){_R}(?:[|/(]{_A}?)?"),
    re.compile(rf"{_R}\({_A}(?:评级)?\)"),                                                 # 买入(维持) / 增持(首次评级)
    re.compile(rf"{_R}[|/]{_A}"),                                                           # 增持|上调 / 买入/首次
    re.compile(rf"{_R}{_A}(?:评级)"),                                                       # 推荐维持评级
]
_PHRASE_RE = re.compile(
    rf"(?P<a>首次覆盖|首次给予|首次|维持|上调至|下调至|上调|下调|调高至|调低至|重申|给予)(?:公司|其)?"
    rf"[^。;!?]{{0,60}}?[\"“'‘]?(?P<r>{RATING_RE})(?:-(?P<s>[A-E]))?[\"”'’]?(?:的)?(?:投资)?评级"
)
_PREV_RE = re.compile(rf"(?:上次评级|前次评级|上期评级|原评级)[:]?(?P<p>{RATING_RE}|首次覆盖|首次评级|首次|-|—)?")


@dataclass
class HeadRating:
    rating: str
    suffix: str = ""
    action: str = ""
    previous: str = ""
    offset: int = -1
    snippet: str = ""
    header_form: bool = False   # read from a header-block form (not from a phrase of the text)


def find_company_rating(flat: str, head_end: int, end: int) -> HeadRating | None:
    """The stock rating of a company report: a header-block form in ``flat[:head_end]`` (first match of the most
    specific form), else the most frequent rating phrase of the body (``维持"买入"评级``) before ``end``."""
    best: tuple[int, int, re.Match] | None = None
    for rank, form in enumerate(_HEAD_FORMS):
        for m in form.finditer(flat, 0, head_end):
            before = flat[max(0, m.start() - 6): m.start()]
            if "行业" in before or "板块" in before:
                continue
            around = flat[max(0, m.start() - 10): m.end() + 10]
            if len(set(_RATING_ONLY_RE.findall(around))) >= 3:
                continue  # a legend of every rating word (check boxes printed as text), not a rating
            if best is None or m.start() < best[1]:
                best = (rank, m.start(), m)
            break
    if best is not None:
        m = best[2]
        action = action_code(m.groupdict().get("a"))
        prev = ""
        pm = _PREV_RE.search(flat, max(0, m.start() - 40), min(len(flat), m.end() + 60))
        if pm and pm.group("p"):
            p = pm.group("p")
            if p.startswith("首次"):
                action = action or "initiate"
            elif p in ("-", "—"):
                pass
            else:
                prev = p
                if not action:
                    action = "reiterate" if p == m.group("r") else ""
        rating = m.group("r")
        phrase_action = _phrase_action(flat, end, rating)
        return HeadRating(rating=rating, suffix=m.groupdict().get("s") or "", action=action or phrase_action,
                          previous=prev, offset=m.start(), snippet=flat[max(0, m.start() - 20): m.end() + 20],
                          header_form=True)
    votes: Counter[str] = Counter()
    first: dict[str, re.Match] = {}
    for m in _PHRASE_RE.finditer(flat, 0, end):
        if "行业" in flat[max(0, m.start() - 8): m.end()]:
            continue
        votes[m.group("r")] += 1
        first.setdefault(m.group("r"), m)
    if not votes:
        return None
    rating = votes.most_common(1)[0][0]
    m = first[rating]
    return HeadRating(rating=rating, suffix=m.group("s") or "", action=action_code(m.group("a")), offset=m.start(),
                      snippet=flat[max(0, m.start() - 20): m.end() + 20])


def _phrase_action(flat: str, end: int, rating: str) -> str:
    for m in _PHRASE_RE.finditer(flat, 0, end):
        if m.group("r") == rating and "行业" not in flat[max(0, m.start() - 8): m.end()]:
            a = action_code(m.group("a"))
            if a:
                return a
    return ""


_IND_FORMS = [
    re.compile(rf"行业(?:投资)?评级:?(?:\((?:{_ACTION_RE})\))?:?{_R}(?:\(?{_A}?\)?)?"),
    re.compile(rf"(?:#investSuggestion#|＃investSuggestion＃|\[Table_Invest\]|\[Table_IndustryInfo\][^\[]{{0,20}}?|"
               rf"\[Table_IndRank\]行业评级:?){_R}(?:\(?#?(?:investSuggestionChange#)?{_A}?)?"),
    re.compile(rf"评级:?{_R}\(?{_A}?\)?"),
    re.compile(rf"{_R}\({_A}\)"),
    re.compile(rf"{_R}[|/]{_A}"),
    re.compile(rf"{_R}(?:上次评级:?(?:{RATING_RE}))?{_A}"),
]
_IND_PHRASE_RE = re.compile(rf"(?P<a>维持|给予|上调|下调|首次)[{_CJK}]{{0,10}}?行业[\"“]?(?P<r>{RATING_RE})[\"”]?(?:的)?(?:投资)?评级")


def find_industry_rating(flat: str, head_end: int, end: int) -> HeadRating | None:
    """The industry rating of an industry / weekly / strategy report: a header form in ``flat[:head_end]``, else
    a phrase ``维持行业"推荐"评级`` in the body."""
    best: tuple[int, re.Match] | None = None
    for form in _IND_FORMS:
        m = form.search(flat, 0, head_end)
        if m:
            best = (m.start(), m)
            break
    if best is None:
        m = _IND_PHRASE_RE.search(flat, 0, end)
        if not m:
            return None
        return HeadRating(rating=m.group("r"), action=action_code(m.group("a")), offset=m.start(),
                          snippet=flat[max(0, m.start() - 20): m.end() + 20])
    m = best[1]
    return HeadRating(rating=m.group("r"), suffix=m.groupdict().get("s") or "",
                      action=action_code(m.groupdict().get("a")), offset=m.start(),
                      snippet=flat[max(0, m.start() - 20): m.end() + 20])


__all__ += ["HeadRating"]


def rating_only(text: str) -> str | None:
    m = _RATING_ONLY_RE.fullmatch(text)
    return m.group(0) if m else None
