"""Stock tables in report text (tab-separated rows, as extracted from the PDF): which ones carry recommendations.

A *stock table* has a header with a code column (``代码``) and a name column (``简称`` / ``名称``). It counts as a
recommendation table when its title (the nearest text line above it) names key companies / ratings
(重点公司, 重点关注, 推荐, 评级, 盈利预测, 组合, 标的 …) or its header has a ``评级`` column, and it is not a
comparables / code-list / market-review table (可比, 对比, 比较, 一览, 涨幅, 跌幅, 行情, 回顾, 表现 in the title).

Column positions: single-column header cells before the first multi-year block (EPS, PE, PB, 营收 …) map 1:1 to
row cells (price, target price, rating); a ``评级`` column after such blocks is read as the row's last cell.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from engine.signals.dates import parse_date
from engine.signals.scales import RATING_WORDS
from engine.symbols import SymbolError, normalize_symbol

__all__ = ["StockRow", "StockTable", "find_stock_tables", "parse_code_cell"]

_INCLUDE_RE = re.compile(r"重点公司|重点关注|关注个股|推荐|评级|盈利预测|投资组合|组合|股票池|标的|覆盖公司|重点个股")
_EXCLUDE_RE = re.compile(r"可比|对比|比较|一览|涨幅|跌幅|涨跌|行情|回顾|表现|估值参考|排名|前五|前十")
_MULTI_RE = re.compile(r"EPS|PE|PB|ROE|PS|营收|收入|净利|市盈率|市净率|每股收益|盈利预测")
_PRICE_RE = re.compile(r"股价|收盘价|现价|价格|最新价|收盘")
_TARGET_RE = re.compile(r"目标价")
_RATING_COL_RE = re.compile(r"评级|投资建议")
_CODE_CELL_RE = re.compile(
    r"^(?:\d{6}(?:\s*\.\s*(?:SH|SZ|BJ|SS))?|\d{6}\s+(?:SH|SZ|BJ)|\d{1,5}\s*\.\s*HK|\d{4,5}\s+HK|\d{4}HK|(?:SH|SZ|BJ)\d{6})$",
    re.IGNORECASE,
)
_UNRATED = {"/", "-", "—", "--", "NA", "N/A", "未评级", "无评级", "暂无", "暂无评级", "未覆盖", ""}
_NUMBER_RE = re.compile(r"^-?\d+(?:,\d{3})*(?:\.\d+)?$")


def parse_code_cell(cell: str) -> str | None:
    """Canonical code for a table cell such as ``688981.SH``, ``300474``, ``688256 SH``, ``9903 HK``."""
    text = cell.strip()
    if not _CODE_CELL_RE.match(text):
        return None
    try:
        return normalize_symbol(text)
    except SymbolError:
        return None


def _number(cell: str) -> float | None:
    text = cell.strip().replace(",", "")
    if _NUMBER_RE.match(text):
        return float(text)
    return None


@dataclass
class StockRow:
    """One row: canonical ``code``, ``name`` as printed, ``price`` and ``target`` in the table's currency,
    ``rating`` as printed (``""`` = printed as unrated, ``None`` = the table has no rating column)."""

    code: str
    name: str
    price: float | None
    target: float | None
    rating: str | None
    line_no: int
    action: str = ""


@dataclass
class StockTable:
    title: str
    header: list[str]
    line_no: int
    recommends: bool
    has_rating_column: bool
    price_date: dt.date | None
    rows: list[StockRow] = field(default_factory=list)


def _title_above(lines: list[str], idx: int) -> str:
    seen = 0
    j = idx - 1
    while j >= 0 and seen < 3:
        text = lines[j].strip()
        if text:
            if "\t" not in text and not _CODE_START_RE.match(text) and "代码" not in text:
                return text.strip("#* ")
            seen += 1
        j -= 1
    return ""


def _is_header(cells: list[str]) -> bool:
    joined = " ".join(cells)
    return "代码" in joined and ("简称" in joined or "名称" in joined) and not any(parse_code_cell(c) for c in cells)


def _positions(header: list[str], after_name: bool = False) -> dict[str, int]:
    """Ordinal (among non-empty cells) of price / target / rating columns before the first multi-year block.

    ``after_name``: count from the cell after the name column instead (for whitespace-split headers, where one
    column title may be split into several tokens, e.g. ``股票 名称``); date tokens (``2024/2/23``) are skipped.
    """
    out: dict[str, int] = {}
    ordinal = 0
    cells = [c for c in header if c.strip()]
    if after_name:
        name_idx = next((k for k, c in enumerate(cells) if "简称" in c or "名称" in c), None)
        if name_idx is None:
            return out
        cells = [c for c in cells[name_idx + 1:] if parse_date(c) is None]
    for cell in cells:
        if _MULTI_RE.search(cell) and not _PRICE_RE.search(cell) and not _TARGET_RE.search(cell):
            break
        if _TARGET_RE.search(cell):
            out.setdefault("target", ordinal)
        elif _PRICE_RE.search(cell):
            out.setdefault("price", ordinal)
        elif _RATING_COL_RE.search(cell):
            out.setdefault("rating", ordinal)
        ordinal += 1
    return out


def _rating_cell(cell: str) -> str | None:
    """Rating word in a cell, ``""`` for an explicit unrated mark, ``None`` when the cell is not a rating."""
    text = cell.strip().strip("*")
    if text in _UNRATED:
        return ""
    base = re.sub(r"[（(].*?[)）]", "", text).strip()
    if base in RATING_WORDS:
        return base
    return None


_CELL_ACTION_RE = re.compile(r"[（(]\s*(首次|首次覆盖|维持|上调|调高|下调|调低)\s*[)）]")
_CELL_ACTIONS = {"首次": "initiate", "首次覆盖": "initiate", "维持": "reiterate", "上调": "upgrade", "调高": "upgrade",
                 "下调": "downgrade", "调低": "downgrade"}


def _cell_action(cell: str | None) -> str:
    """``initiate`` / ``reiterate`` / ``upgrade`` / ``downgrade`` from a rating cell such as ``买入(维持)``."""
    m = _CELL_ACTION_RE.search(cell or "")
    return _CELL_ACTIONS[m.group(1)] if m else ""


def _cells(line: str) -> list[str]:
    """Cells of a table line: tab-separated (text exports), else whitespace-separated (PDF text), where a bare unit
    such as ``(元)`` is joined to the cell before it."""
    if "\t" in line:
        return [c.strip() for c in line.split("\t")]
    out: list[str] = []
    for token in line.split():
        if out and re.fullmatch(r"[（(][^)）]{0,8}[)）]", token):
            out[-1] += token
        else:
            out.append(token)
    return out


def _maybe_table_line(line: str) -> bool:
    return "\t" in line or (" " in line.strip() and ("代码" in line or bool(_CODE_START_RE.match(line.strip()))))


_CODE_START_RE = re.compile(r"^(?:\d{6}(?:\.(?:SH|SZ|BJ))?|\d{4,5}\.HK)\s", re.IGNORECASE)


def find_stock_tables(lines: list[str], price_date: dt.date | None = None) -> list[StockTable]:
    """Every stock table in ``lines`` with its rows (see module docstring)."""
    tables: list[StockTable] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if not _maybe_table_line(line):
            i += 1
            continue
        cells = _cells(line)
        if not _is_header(cells):
            i += 1
            continue
        title = _title_above(lines, i)
        header_text = " ".join(cells)
        has_rating = bool(_RATING_COL_RE.search(header_text))
        recommends = (bool(_INCLUDE_RE.search(title)) or has_rating) and not _EXCLUDE_RE.search(title)
        header_date = None
        for cell in cells:
            if _PRICE_RE.search(cell):
                header_date = parse_date(cell)
                if header_date:
                    break
        table = StockTable(title=title, header=cells, line_no=i + 1, recommends=recommends,
                           has_rating_column=has_rating, price_date=header_date)
        spaced = "\t" not in line
        positions = _positions(cells, after_name=spaced)
        code_first = header_text.find("代码") < max(header_text.find("简称"), header_text.find("名称"))
        j = i + 1
        misses = 0
        while j < n and misses < 3:
            text = lines[j]
            if not text.strip():
                j += 1
                continue
            row_cells = _cells(text)
            nonempty = [c for c in row_cells if c]
            code_idx = next((k for k, c in enumerate(nonempty) if parse_code_cell(c)), None)
            if code_idx is None or code_idx > 2:
                misses += 1
                j += 1
                if table.rows and misses >= 1 and not _maybe_table_line(text):
                    break
                continue
            misses = 0
            code = parse_code_cell(nonempty[code_idx])
            if code_first:
                name = nonempty[code_idx + 1] if code_idx + 1 < len(nonempty) else ""
            else:
                name = nonempty[code_idx - 1] if code_idx >= 1 else ""
            if _number(name) is not None:
                name = ""
            base = max(code_idx, nonempty.index(name) if name in nonempty else code_idx) + 1

            def at(key: str) -> str | None:
                if key not in positions:
                    return None
                k = positions[key] + (base if spaced else 0)
                return nonempty[k] if k < len(nonempty) else None

            price_cell = at("price")
            if price_cell is None and "price" in positions:
                price_cell = None
            price = _number(price_cell) if price_cell is not None else None
            if price is None and "price" in positions and base < len(nonempty):
                price = _number(nonempty[base])
            target_cell = at("target")
            target = _number(target_cell) if target_cell is not None else None
            rating: str | None = None
            action = ""
            if has_rating:
                cell = at("rating")
                rating = _rating_cell(cell) if cell is not None else None
                if rating is None:
                    cell = nonempty[-1]
                    rating = _rating_cell(cell)
                if rating is None:
                    rating = ""
                action = _cell_action(cell) if rating else ""
            table.rows.append(StockRow(code=code, name=name, price=price, target=target, rating=rating,
                                       line_no=j + 1, action=action))
            j += 1
        if table.price_date is None:
            tail = "\n".join(lines[j: j + 6])
            m = re.search(r"(?:股价|收盘价|价格).{0,6}?(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[/\-.]\d{1,2}[/\-.]\d{1,2})", tail)
            table.price_date = parse_date(m.group(1)) if m else price_date
        tables.append(table)
        i = j
    return tables
