"""Single fields of a report read from flat text (see :mod:`engine.signals.stripped`): publication date, price at
report and its date, target price (thousands separators, ranges, its own horizon), currency, analysts.

Units: prices as printed (CNY, HKD or USD by the unit printed next to them: ``元`` CNY, ``港元``/``港币`` HKD,
``美元`` USD, ``(人民币)`` CNY); dates are calendar dates (``datetime.date``) as printed.

Date traps handled by :func:`find_publication_date_flat`: dates of older reports listed under 相关研究 / 相关报告,
price and data dates (``股价(2021-04-13)``, ``数据截至…``, ``交易数据2021-04-12``, ``…收盘价``), dates in
``《…》`` titles; a labelled date (``发布时间:``, ``报告日期:``, ``[Table_Date]``, ``＃createTime1＃``) wins.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["DateHit", "NumberHit", "find_publication_date_flat", "find_price", "find_target", "find_analysts",
           "parse_number", "CURRENCY_UNITS"]

CURRENCY_UNITS = {"元": "CNY", "人民币": "CNY", "RMB": "CNY", "CNY": "CNY", "港元": "HKD", "港币": "HKD",
                  "HKD": "HKD", "HK$": "HKD", "美元": "USD", "USD": "USD", "US$": "USD"}

_D = (r"(?P<y>20\d{2}|19\d{2})(?:年(?P<m1>\d{1,2})月(?P<d1>\d{1,2})日|"
      r"(?P<sep>[-/.])(?P<m2>\d{1,2})(?P=sep)(?P<d2>\d{1,2})(?![\d/.]\d))")
_DATE_RE = re.compile(_D)
_LABELLED_RE = re.compile(r"(?:发布时间|报告日期|发布日期|报告时间|日期|Table_Date\]|createTime\d?[#＃]|Table_[A-Za-z]+\]?)[:]?$")
_RELATED_RE = re.compile(r"相关研究|相关报告|相关阅读|往期回顾|近期报告|历史报告|近期研究|相关研究报告|往期报告|近期相关报告")
_RELATED_END_RE = re.compile(r"\[Table_|证券分析师|分析师|研究助理|联系人|执业|投资要点|摘要|核心观点|主要观点|报告摘要|#")
_PRICE_DATE_BEFORE_RE = re.compile(r"(?:(?:股价|收盘价|收盘|数据|更新|行情|价格|交易数据|市场数据|基础数据|昨收)(?:为|取|系)?[(:]?|"
                                   r"(?:截至|截止)[^,。;]{0,6}|[至到~-])$")
_TITLE_BEFORE_RE = re.compile(r"》[-—]*$|《[^》]{0,40}$|--$|——$")
_PRICE_DATE_AFTER_RE = re.compile(r"^\)?(?:收盘|股价|价格|的收盘|的价格|日收盘|数据|公司发布|公司公告|发布公告|公告|晚间|召开|举行|起|至)")


@dataclass
class DateHit:
    date: dt.date
    offset: int
    snippet: str
    labelled: bool = False


def _make(y: str, m: str, d: str) -> dt.date | None:
    try:
        day = dt.date(int(y), int(m), int(d))
    except ValueError:
        return None
    return day if 1995 <= day.year <= 2100 else None


def _date_of(m: re.Match) -> dt.date | None:
    return _make(m.group("y"), m.group("m1") or m.group("m2"), m.group("d1") or m.group("d2"))


def _related_spans(flat: str, limit: int) -> list[tuple[int, int]]:
    spans = []
    for m in _RELATED_RE.finditer(flat, 0, limit):
        stop = _RELATED_END_RE.search(flat, m.end(), min(len(flat), m.end() + 400))
        spans.append((m.start(), stop.start() if stop else m.end() + 400))
    return spans


def find_publication_date_flat(flat: str, limit: int = 3000) -> DateHit | None:
    """The report's own date in the first ``limit`` characters of flat text (see module docstring)."""
    spans = _related_spans(flat, limit)
    hits: list[DateHit] = []
    for m in _DATE_RE.finditer(flat, 0, min(len(flat), limit)):
        d = _date_of(m)
        if d is None:
            continue
        if any(s <= m.start() < e for s, e in spans):
            continue
        before = flat[max(0, m.start() - 14): m.start()]
        after = flat[m.end(): m.end() + 6]
        if _PRICE_DATE_BEFORE_RE.search(before) or _PRICE_DATE_AFTER_RE.search(after):
            continue
        if _TITLE_BEFORE_RE.search(before) or before.endswith(("事件:", "事件：")):
            continue
        labelled = bool(_LABELLED_RE.search(before))
        hits.append(DateHit(d, m.start(), flat[max(0, m.start() - 20): m.end() + 10], labelled))
    if not hits:
        return None
    for h in hits:
        if h.labelled:
            return h
    return hits[0]


# a number printed with thousands separators or not; the decimals stop before a year run into it
# (``43.822021年4月14日`` is 43.82 then the date)
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2}(?=(?:19|20)\d{2}[年/\-.])|\.\d+)?|\d+(?:\.\d{1,2}(?=(?:19|20)\d{2}[年/\-.])|\.\d+)?"


def parse_number(text: str) -> float | None:
    """``1,650.00`` → 1650.0; full-width digits and dots must be mapped to ASCII first (:func:`to_ascii`)."""
    try:
        return float(text.replace(",", ""))
    except (TypeError, ValueError):
        return None


@dataclass
class NumberHit:
    value: float
    offset: int
    snippet: str
    currency: str = ""
    low: float | None = None
    high: float | None = None
    horizon_months: int | None = None
    date: dt.date | None = None


_UNIT = r"(?P<unit>港元|港币|美元|元|HKD|HK\$|USD|US\$|CNY|RMB)?"
_CUR_LABEL = r"(?:\((?P<cur>人民币|港元|港币|美元|元|RMB|HKD|USD|HK\$)\))?"
_PRICE_RE = re.compile(
    r"(?P<label>当前价格|当前股价|当前价|最新收盘价|最新股价|收盘价|昨收盘|市场价格|市价|现价|最新价|发行价格|发行价|股价|收盘)"
    + r"(?:\((?P<cur2>人民币|港元|港币|美元|元|RMB|HKD|USD|HK\$)?[,]?(?:截至|截止)(?P<pdate2>[^)]{4,14})\))?"
    + _CUR_LABEL + r"(?:\((?P<pdate>\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)\))?(?:\(元\))?[:]?(?:￥|¥|RMB|HK\$|(?P<cur3>人民币|港元|港币|美元))?"
    + rf"(?P<v>{_NUM})" + _UNIT
)
_TARGET_RE = re.compile(
    r"(?:(?P<h1>\d{1,2})个月)?(?:合理)?目标价(?:格|位)?" + _CUR_LABEL + r"(?:\((?P<h2>\d{1,2})个月\))?[:]?(?:为|至)?"
    + r"(?:￥|¥|HK\$|US\$)?"
    + rf"(?P<v>{_NUM})(?:(?:元|港元)?(?:-|~|至|—)(?P<v2>{_NUM}))?" + _UNIT
    + r"(?:\((?P<h3>\d{1,2})个月\))?"
)


def _currency(m: re.Match) -> str:
    for key in ("cur", "cur2", "cur3", "unit"):
        value = m.groupdict().get(key)
        if value:
            return CURRENCY_UNITS.get(value, "")
    return ""


def find_price(flat: str, start: int = 0, end: int | None = None) -> NumberHit | None:
    """The price at report printed in ``flat[start:end]`` (first labelled price, with its date when printed)."""
    end = len(flat) if end is None else end
    for m in _PRICE_RE.finditer(flat, start, end):
        value = parse_number(m.group("v"))
        if value is None or value <= 0:
            continue
        after = flat[m.end(): m.end() + 2]
        if after.startswith(("%", "亿", "万")) or (not m.group("unit") and after[:1].isdigit()):
            continue
        if m.group("label") in ("股价", "收盘") and not m.group("pdate"):
            # a bare 股价 followed by a number is often prose (股价上涨12%); require a unit
            if not m.group("unit"):
                continue
        pdate = None
        if m.groupdict().get("pdate2"):
            dm = _DATE_RE.search(m.group("pdate2"))
            pdate = _date_of(dm) if dm else None
        if m.group("pdate"):
            dm = _DATE_RE.search(m.group("pdate"))
            pdate = _date_of(dm) if dm else None
        return NumberHit(value, m.start(), flat[m.start(): m.end()], _currency(m), date=pdate)
    return None


def find_target(flat: str, start: int = 0, end: int | None = None) -> NumberHit | None:
    """The target price in ``flat[start:end]``: a single value or a range (``target_low``/``target_high``, the
    value is the midpoint), its currency and its own horizon (``6个月目标价``, ``目标价(6个月)``)."""
    end = len(flat) if end is None else end
    for m in _TARGET_RE.finditer(flat, start, end):
        low = parse_number(m.group("v"))
        if low is None or low <= 0:
            continue
        after = flat[m.end(): m.end() + 2]
        if after.startswith(("%", "亿", "万")):
            continue
        high = parse_number(m.group("v2")) if m.group("v2") else None
        if high is not None and high < low:
            high = None
        horizon = next((int(m.group(k)) for k in ("h1", "h2", "h3") if m.group(k)), None)
        value = (low + high) / 2 if high is not None else low
        return NumberHit(value, m.start(), flat[m.start(): m.end()], _currency(m), low=low,
                         high=high if high is not None else low, horizon_months=horizon)
    return None


_ANALYST_RE = re.compile(
    r"(?:证券分析师|分析师|研究员)[:]?(?P<n>[\u4e00-\u9fff]{2,3}?)"
    r"(?=执业|SAC|S\d{4}|电话|邮箱|联系|证书|E-?MAIL|E-?mail|Email|Tel|TEL|[A-Za-z0-9(@]|$|分析师|研究助理|、)"
)
_NOT_NAMES = {"声明", "承诺", "简介", "介绍", "认为", "预计", "保证", "本人", "姓名", "职业", "所在", "团队",
              "覆盖", "观点", "执业", "研究", "是否", "对本"}


def find_analysts(flat: str, start: int = 0, end: int | None = None) -> list[str]:
    """Analyst names (``分析师:薛缘``, ``证券分析师吴若飞执业证书…``, ``分析师:孙媛媛sunyuanyuan@…``), in order."""
    end = len(flat) if end is None else end
    names: list[str] = []
    for m in _ANALYST_RE.finditer(flat, start, end):
        name = m.group("n")
        if name in _NOT_NAMES or any(w in name for w in _NOT_NAMES) or name in names:
            continue
        names.append(name)
    return names
