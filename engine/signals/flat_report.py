"""One report read as flat text (whitespace-stripped, or any text flattened) → report fields and stock entries.

:func:`read_flat_report` returns a :class:`FlatReport` that :func:`engine.signals.extract.extract_report` turns into
signal rows. Steps:

1. :func:`engine.signals.stripped.flatten` (full-width → ASCII, no whitespace) and the end of the body
   (:func:`engine.signals.stripped.body_end`): ratings are read only before it; the 评级说明 after it.
2. Report type from the title block (周报 → weekly, 策略 → strategy), company when the head prints a
   ``名称(代码)`` pair and company words (公司研究/点评/深度…) or a stock-rating form, else industry.
3. Company reports: the stock of the head pair with the header rating (:func:`find_company_rating`), price
   (``当前价格``/``收盘价``/``股价(日期)``…), target (``目标价(人民币):43.82``, ranges, ``6个月目标价``).
4. Table rows of every report (:func:`engine.signals.stripped.find_table_rows`): a row with a rating word is a
   rating, one without a mention.
5. Industry rating (non-company reports) with its action; publication date
   (:func:`engine.signals.fields.find_publication_date_flat`); analysts.

Every entry carries ``evidence`` (≤ 120 characters of the flat text) and ``provenance`` (field → offset in the
original text and a snippet) and a ``confidence``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from engine.signals.fields import (
    DateHit,
    NumberHit,
    find_analysts,
    find_price,
    find_publication_date_flat,
    find_target,
)
from engine.signals.named_rows import price_by_name
from engine.signals.stripped import (
    _HEAD_PAIR_RE,
    _PHRASE_RE,
    ALL_RATING_WORDS,
    action_code,
    HeadRating,
    OffsetMap,
    TableRow,
    body_end,
    find_company_head,
    find_company_rating,
    find_industry_rating,
    find_table_rows,
    flatten,
)

__all__ = ["FlatReport", "StockEntry", "read_flat_report", "scale_lines"]


@dataclass
class StockEntry:
    """A stock the report rates (``kind="rating"``) or only names (``kind="mention"``)."""

    code: str
    name: str
    kind: str
    rating: str = ""
    risk_suffix: str = ""
    action: str = ""
    previous_rating: str = ""
    target: NumberHit | None = None
    price: NumberHit | None = None
    price_date: dt.date | None = None
    currency: str = ""
    evidence: str = ""
    confidence: float = 0.5
    provenance: dict = field(default_factory=dict)
    price_readings: list[float] = field(default_factory=list)   # a run-together price cell's possible readings


@dataclass
class FlatReport:
    flat: str
    offsets: OffsetMap
    body_end: int
    report_type: str = ""
    industry: str = ""
    industry_rating: HeadRating | None = None
    date: DateHit | None = None
    price_date: dt.date | None = None
    analysts: list[str] = field(default_factory=list)
    stocks: list[StockEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def at(self, flat_offset: int) -> int:
        """Offset in the original text of a flat offset."""
        return self.offsets[max(flat_offset, 0)]

    def snippet(self, start: int, end: int, limit: int = 120) -> str:
        return self.flat[max(0, start): min(len(self.flat), end)][:limit]


_WEEKLY_RE = re.compile(r"周报|周观点|双周报|周度|周刊|周评|每周|周跟踪|周专题|周报告")
_STRATEGY_RE = re.compile(r"策略报告|投资策略|策略研究|策略周报|策略月报|年度策略|中期策略")
_COMPANY_RE = re.compile(r"公司研究|公司点评|公司深度|公司报告|公司动态|公司跟踪|公司简评|公司首次|点评报告|深度报告|"
                         r"首次覆盖|公司调研|公司评级|个股|财报点评|公告点评|业绩点评|季报点评|年报点评|动态报告|"
                         r"Table_StockInfo|table_invest|Table_Invest|investSuggestion")
_INDUSTRY_RE = re.compile(r"行业研究|行业报告|行业周报|行业点评|行业深度|行业月报|行业专题|行业动态|行业跟踪|行业评级|"
                          r"行业投资评级|行业年度|Table_IndustryInfo|Table_IndRank|industryId")
_INDUSTRY_NAME_RE = re.compile(r"(?:#industryId#|\[Table_Info1\]|行业:|所属行业:?)([\u4e00-\u9fff]{2,8}?)(?=[\[#]|行业|$)")


def _classify(flat: str, head_end: int, head: tuple[str, str, int] | None, company_rating: HeadRating | None,
              rows: list[TableRow]) -> str:
    """``weekly`` / ``strategy`` / ``company`` / ``industry`` from the title block and the header forms."""
    title = _RELATED_TITLE_RE.sub("", flat[:min(len(flat), 400)])
    if _WEEKLY_RE.search(title):
        return "weekly"
    if head is not None:
        code = head[1]
        rated_codes = {r.code for r in rows if r.rating and r.code}
        company_words = bool(_COMPANY_RE.search(title))
        industry_words = bool(_INDUSTRY_RE.search(title))
        header_rating = company_rating is not None and company_rating.header_form
        if not company_words and len(rated_codes - {code}) >= 2 and _head_tied(flat, head_end):
            return "strategy" if _STRATEGY_RE.search(title[:300]) else "industry"
        if header_rating and not (industry_words and len(rated_codes - {code}) >= 2):
            return "company"
        if company_words and not industry_words:
            return "company"
        if company_rating is not None and not industry_words and len(rated_codes - {code}) < 2:
            return "company"
    if _STRATEGY_RE.search(title[:300]):
        return "strategy"
    return "industry"


_RELATED_TITLE_RE = re.compile(r"《[^》]{0,80}》")


def _head_tied(flat: str, head_end: int) -> bool:
    """True when no single ``名称(代码)`` pair dominates the head block: two or more codes printed there equally
    often (a table of contents or a list of companies, not a company report's subject)."""
    counts = Counter(m.group(2) for m in _HEAD_PAIR_RE.finditer(flat, 0, head_end))
    top = counts.most_common(2)
    return len(top) == 2 and top[0][1] == top[1][1]


_WORDS_RE = "|".join(sorted((re.escape(w) for w in ALL_RATING_WORDS), key=len, reverse=True))
_COMPANY_INDUSTRY_RE = re.compile(
    rf"(?:行业|板块)(?:投资)?评级[:]?(?:\((?P<a>首次|维持|上调|下调)\))?:?(?P<r>{_WORDS_RE})(?![:：]?(?:未来|预计|指|相对|行业)|{_WORDS_RE})"
)
#: a rating word followed shortly by a percentage: one band definition (``买入:未来6个月内…涨幅20%以上``)
_DEFINITION_RE = re.compile(rf"({_WORDS_RE})[^。;]{{0,50}}?\d+%")
_SPLIT_BEFORE_RE = re.compile(
    rf"({_WORDS_RE})(?=[:：—\-]?(?:\(|（|未来|预计|预期|指|股价|相对|行业|公司|在|报告|表示|投资|我们|以|从|对|\d|-|\+|[A-Z]))")
_PART_RE = re.compile(r"(行业(?:投资)?评级|股票(?:投资)?评级|公司(?:投资)?评级)")


def scale_lines(flat: str, start: int = 0) -> str:
    """The rating definitions of flat text rewritten one band per line (``买入 未来6个月内…``) so that
    :func:`engine.signals.scales.parse_scale_section` can read them; ``""`` when there is no definition.

    The definitions are located where band definitions (a rating word, then a percentage within 50 characters)
    cluster: the cluster with the most distinct rating words (the last one on a tie), from 300 characters before
    its first definition to 400 after its last."""
    hits = [m for m in _DEFINITION_RE.finditer(flat)]
    if not hits:
        anchor = re.search(r"投资评级说明|评级说明|评级体系|评级标准|评级定义", flat[start:])
        if not anchor:
            return ""
        a = start + anchor.start()
        window = flat[max(0, a - 200): a + 2500]
    else:
        clusters: list[list[re.Match]] = [[hits[0]]]
        for m in hits[1:]:
            if m.start() - clusters[-1][-1].end() < 400:
                clusters[-1].append(m)
            else:
                clusters.append([m])
        best = max(reversed(clusters), key=lambda c: len({m.group(1) for m in c}))
        window = flat[max(0, best[0].start() - 300): best[-1].end() + 400]
    window = _PART_RE.sub(r"\n\1\n", window)
    return _SPLIT_BEFORE_RE.sub(r"\n\1 ", window)


def read_flat_report(text: str) -> FlatReport:
    """Read every field of a report from its flat form (see module docstring)."""
    flat, offsets = flatten(text)
    end = body_end(flat)
    rep = FlatReport(flat=flat, offsets=offsets, body_end=end)
    head_end = min(end, 2500)
    rows = find_table_rows(flat, 0, end)
    head = find_company_head(flat, head_end)
    if head is None and _COMPANY_RE.search(flat, 0, min(len(flat), 400)):
        head = find_company_head(flat, end)
    if head is not None and not head[0]:
        named = find_company_head(flat, end)
        if named is not None and named[1] == head[1] and named[0]:
            head = (named[0], head[1], head[2])
    company_rating = find_company_rating(flat, head_end, end) if head is not None else None
    rep.report_type = _classify(flat, head_end, head, company_rating, rows)
    rep.date = find_publication_date_flat(flat, min(len(flat), 3000))
    rep.analysts = find_analysts(flat, 0, head_end) or find_analysts(flat, 0, end)
    m = _INDUSTRY_NAME_RE.search(flat, 0, head_end)
    rep.industry = m.group(1) if m else ""

    stocks: dict[str, StockEntry] = {}
    if rep.report_type == "company" and head is not None:
        name, code, pos = head
        entry = StockEntry(code=code, name=name, kind="rating")
        if company_rating is not None:
            entry.rating, entry.risk_suffix = company_rating.rating, company_rating.suffix
            entry.action, entry.previous_rating = company_rating.action, company_rating.previous
            entry.evidence = company_rating.snippet[:120]
            entry.provenance["rating"] = {"page": None, "offset": rep.at(company_rating.offset),
                                          "snippet": company_rating.snippet[:60]}
            entry.confidence = 0.9 if company_rating.offset < head_end else 0.7
        else:
            entry.kind = "mention"
            rep.notes.append(f"company report on {code}: no rating printed")
        price = find_price(flat, 0, head_end)
        target = find_target(flat, 0, head_end) or find_target(flat, 0, end)
        entry.price, entry.target = price, target
        entry.price_date = price.date if price is not None else None
        entry.currency = (target.currency if target is not None and target.currency else
                          price.currency if price is not None else "")
        for key, hit in (("price_at_report", price), ("target_price", target)):
            if hit is not None:
                entry.provenance[key] = {"page": None, "offset": rep.at(hit.offset), "snippet": hit.snippet[:60]}
        entry.provenance["code"] = {"page": None, "offset": rep.at(pos), "snippet": flat[pos: pos + 30]}
        stocks[code] = entry
        m = _COMPANY_INDUSTRY_RE.search(flat, 0, head_end)
        if m:   # a company report's header may rate the stock's industry too (``板块评级:强于大市``); a legend of
            # every word (``行业评级看好中性看淡``, check boxes printed as text) is not a rating
            rep.industry_rating = HeadRating(rating=m.group("r"), action=action_code(m.group("a")), offset=m.start(),
                                             snippet=flat[max(0, m.start() - 20): m.end() + 20])
    else:
        ind = find_industry_rating(flat, head_end, end)
        rep.industry_rating = ind

    for row in rows:
        key = row.code or "name:" + row.name
        if key in stocks and (stocks[key].kind == "rating" or not row.rating):
            known = stocks[key]
            if known.kind == "rating" and not known.action and row.action and row.rating == known.rating:
                known.action = row.action   # the same rating repeated in a table that prints the action
            if known.kind == "rating" and known.price is None and (row.price_checked or row.price_readings):
                # the header printed no price: the stock's row in a table does, confirmed by the row's arithmetic
                # (a row read by column order alone may be another table's cells), or its possible readings
                snippet = rep.snippet(row.start, row.end)[:60]
                prov = {"page": None, "offset": rep.at(row.start), "snippet": snippet}
                if row.price_checked:
                    known.price = NumberHit(row.price, row.start, snippet)
                else:
                    known.price_readings, prov["note"] = row.price_readings, row.price_note
                known.provenance["price_at_report"] = prov
            continue
        if not row.code and any(s.name == row.name for s in stocks.values()):
            continue
        evidence = rep.snippet(row.start, row.end)
        entry = StockEntry(code=row.code, name=row.name, kind="rating" if row.rating else "mention",
                           rating=row.rating, risk_suffix=row.suffix, action=row.action, evidence=evidence,
                           confidence=0.8 if row.code else 0.6)
        if row.price is not None:
            entry.price = NumberHit(row.price, row.start, evidence[:60])
            entry.provenance["price_at_report"] = {"page": None, "offset": rep.at(row.start), "snippet": evidence[:60]}
        elif row.price_note:
            entry.provenance["price_at_report"] = {"page": None, "offset": rep.at(row.start),
                                                   "snippet": evidence[:60], "note": row.price_note}
            entry.price_readings = row.price_readings
        entry.provenance["rating"] = {"page": None, "offset": rep.at(row.start), "snippet": evidence[:60]}
        stocks[key] = entry
    coded = [s for s in stocks.values() if s.code]
    for key in [k for k, s in stocks.items() if not s.code]:
        s = stocks[key]
        twin = next((c for c in coded if c.name.startswith(s.name)), None)
        if twin is not None:
            if twin.name != s.name:
                twin.name = s.name       # the coded row's name ran into the next cell (an industry column)
            if twin.kind != "rating" and s.kind == "rating":
                twin.kind, twin.rating, twin.risk_suffix, twin.action = "rating", s.rating, s.risk_suffix, s.action
            del stocks[key]
    rep.stocks = list(stocks.values())
    _prices_by_name(flat, end, rep)
    _phrase_actions(flat, end, rep, _table_spans(rows))
    return rep


def _prices_by_name(flat: str, end: int, rep: FlatReport) -> None:
    """Rated stocks without a price: the price from another table that prints the stock by name, when that row's
    arithmetic confirms it (:func:`engine.signals.named_rows.price_by_name`); else, for a run-together price cell
    that did not split with certainty, the only reading within a factor 2 below / 1.5 above the stock's target
    price (a target is rarely more than twice or less than two thirds of the price). Otherwise the price stays
    empty and the report says why."""
    for s in rep.stocks:
        if s.kind != "rating" or s.price is not None or len(s.name) < 2:
            continue
        hit = price_by_name(flat, s.name, end)
        if hit is None:
            target = s.target.value if s.target is not None else None
            near = [r for r in s.price_readings if target is not None and target / 2 <= r <= target * 1.5]
            prov = s.provenance.get("price_at_report", {})
            if len(near) == 1 and prov:
                s.price = NumberHit(near[0], -1, prov.get("snippet", ""))
                prov["note"] = (f"price cell split by plausibility: of the readings "
                                f"{'/'.join(f'{r:g}' for r in s.price_readings)} only {near[0]:g} lies near the "
                                f"target {s.target.value:g}")
            elif prov.get("note"):
                rep.notes.append(f"{s.code or s.name}: {prov['note']}; price_at_report left empty")
            continue
        s.price = NumberHit(hit.value, hit.offset, hit.snippet)
        s.provenance["price_at_report"] = {"page": None, "offset": rep.at(hit.offset), "snippet": hit.snippet,
                                           "note": "read from a table that prints the stock by name; "
                                                   "confirmed by price ÷ EPS = PE"}


def _table_spans(rows: list[TableRow]) -> list[tuple[int, int]]:
    """(start, end) of the rows that print numeric cells and stand in a run of rows (a neighbour within 40
    characters): a table. A row without numbers, or followed by its own paragraph (a rating list with one
    commentary per stock), is running text."""
    ordered = sorted((r.start, r.end) for r in rows if len(r.numbers.replace("|", "")) >= 6)
    out = []
    for k, (a, b) in enumerate(ordered):
        near_prev = k > 0 and a - ordered[k - 1][1] <= 40
        near_next = k + 1 < len(ordered) and ordered[k + 1][0] - b <= 40
        if near_prev or near_next:
            out.append((a, b))
    return out


_CJK_NAME_RE = re.compile(r"[\u4e00-\u9fff]")
_SECTION_RE = re.compile(r"(?<![\d./])\d{1,2}\.\d{1,2}\.(?=[\u4e00-\u9fff])")
_ACTION_WORD_RE = re.compile(r"首次覆盖|首次给予|首次|维持|上调|下调|调高|调低|重申")
_CHANGE_RE = re.compile(
    rf"由[\"“'‘]?(?P<p>{_WORDS_RE})[\"”'’]?(?:评级)?(?P<a>上调|下调|调高|调低|提升|降低)(?:为|至|到)[\"“'‘]?(?P<r>{_WORDS_RE})"
)


def _phrase_actions(flat: str, end: int, rep: FlatReport, spans: list[tuple[int, int]]) -> None:
    """Actions of rated stocks without one, from phrases such as ``维持"买入"评级`` / ``首次覆盖,给予"增持"评级`` /
    ``评级由"增持"上调为"买入"`` (which also gives the previous rating).

    A phrase belongs to the rated stock whose name opens the numbered section it stands in (``6.3.洁美科技``), else
    to the rated stock named last before it in the running text — table rows (``spans``) do not count, since a
    table inside a company's section names every stock — looking back at most 3,000 characters and not past the
    previous rating phrase; and only when the phrase's rating word is that stock's rating."""
    rated = {s.name: s for s in rep.stocks if s.kind == "rating" and len(s.name) >= 2 and _CJK_NAME_RE.search(s.name)}
    if not any(not s.action for s in rated.values()):
        return
    name_re = re.compile("|".join(re.escape(n) for n in sorted(rated, key=len, reverse=True)))
    starts = [a for a, _ in spans]
    phrases = sorted([m for m in _PHRASE_RE.finditer(flat, 0, end)] + [m for m in _CHANGE_RE.finditer(flat, 0, end)],
                     key=lambda m: m.start())
    prev_end = 0
    for m in phrases:
        window_start = max(prev_end, m.start() - 3000)
        prev_end = max(prev_end, m.end())
        if "行业" in flat[max(0, m.start() - 8): m.end()]:
            continue
        heading = None
        for h in _SECTION_RE.finditer(flat, window_start, m.start()):
            window_start, heading = h.start(), h   # a new numbered section (``5.2.药明生物:``): a new subject
        last = name_re.match(flat, heading.end()) if heading is not None else None
        for hit in ([] if last is not None else name_re.finditer(flat, window_start, m.start())):
            k = bisect.bisect_right(starts, hit.start()) - 1
            if k >= 0 and spans[k][0] <= hit.start() < spans[k][1]:
                continue                       # a table row, not the running text
            last = hit
        if last is None:
            continue
        stock = rated[last.group(0)]
        # the action word nearest the rating word (``下调盈利预测,维持"买入"评级`` is a 维持)
        words = _ACTION_WORD_RE.findall(flat, m.start(), m.start("r"))
        action = action_code(words[-1] if words else m.group("a"))
        if stock.action or not action or m.group("r") != stock.rating:
            continue
        stock.action = action
        if m.groupdict().get("p") and not stock.previous_rating:
            stock.previous_rating = m.group("p")
        stock.provenance["action"] = {"page": None, "offset": rep.at(m.start()), "snippet": flat[m.start(): m.end()]}
