"""Prices of rated stocks from a second table that prints them by name only.

Industry reports often rate stocks in one table (code, name, rating) and print their prices, EPS and PE in another
that has no code and may put an industry column before the name (``化学原料药九洲药业35.650.450.670.7879.22…``).
:func:`price_by_name` finds the stock's name followed directly by a run of numeric cells anywhere in the body and
reads the price cell only when the row's own arithmetic confirms it (``price ÷ EPS = PE`` for at least two years,
:func:`engine.signals.row_price.pe_checked_price`, or the price-last reading of
:func:`engine.signals.row_price.last_price`): a name in prose followed by a number is never read as a price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.signals.row_price import last_price, pe_checked_price
from engine.signals.stripped import _number_run, _scan_cells

__all__ = ["NamedPrice", "price_by_name"]

# after the name: an optional code in brackets or glued (``九洲药业(603456)``), then the first digit of the cells
_AFTER_NAME_RE = re.compile(r"(?:\((?:\d{6}|\d{4,5})(?:\.[A-Z]{2})?\)|\d{6}(?:\.[A-Z]{2})?)?(?=\d)")


_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_PRICE_COL_RE = re.compile(r"股价|收盘价|现价|最新价|价格")
_EPS_PE_COL_RE = re.compile(r"EPS|PE|每股收益|市盈率")


def _valuation_header(flat: str, pos: int) -> bool:
    """True when the text before ``pos`` (back to the previous sentence end or table source line, at most 1,200
    characters: the rows of the table itself may stand between) holds a table header with a price column and an
    EPS or PE column."""
    before = flat[max(0, pos - 1200): pos]
    cut = max(before.rfind("。"), before.rfind("资料来源"))
    before = before[cut + 1:] if cut >= 0 else before
    return bool(_PRICE_COL_RE.search(before) and _EPS_PE_COL_RE.search(before))


@dataclass
class NamedPrice:
    """A price (the table's currency) read from a row printed by name, at flat offset ``offset``."""

    value: float
    offset: int
    snippet: str


def price_by_name(flat: str, name: str, end: int, skip: tuple[int, int] | None = None) -> NamedPrice | None:
    """The price of ``name`` from the first row after the name whose arithmetic confirms one (see module
    docstring); ``skip`` is a (start, end) span not to read (the rating row itself). ``None`` when no row
    confirms a price."""
    if len(name) < 2 or not _CJK_RE.search(name):
        return None
    pos = flat.find(name, 0, end)
    while pos >= 0:
        after = pos + len(name)
        if skip is None or not (skip[0] <= pos < skip[1]):
            m = _AFTER_NAME_RE.match(flat, after, end)
            if m is not None and _valuation_header(flat, pos):
                stop, cells = _scan_cells(flat, m.end(), min(end, m.end() + 160))
                # the row ends at its rating word (the next row's code would follow)
                cut = next((i for i, c in enumerate(cells) if c.group("rating") or c.group("unrated")), len(cells))
                cells = cells[:cut]
                stop = cells[-1].end() if cells else stop
                numbers = _number_run(cells)
                if numbers.count(".") >= 3:
                    price = pe_checked_price(numbers)
                    if price is None:
                        price, _ = last_price(numbers.split("|")[-1], checked_only=True)
                    if price is not None:
                        return NamedPrice(price, pos, flat[pos: min(stop, pos + 60)])
        pos = flat.find(name, after, end)
    return None

