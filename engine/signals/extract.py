"""One report's text → its signals rows and per-file messages.

Steps (each a function below):

1. :func:`detect_broker` — the broker named most often (registry aliases first, longest first), else the most frequent
   ``XX证券…股份有限公司/研究所`` phrase.
2. :func:`choose_scale` — the report's own 评级说明 (:func:`engine.signals.scales.parse_scale_section`) or the registry's;
   a warning when both exist and disagree (the report's own wins).
3. :func:`classify_report` — report type (weekly / strategy / company / industry), industry name.
4. :func:`head_rating` — the rating printed near the top (``投资评级：推荐（维持）``, ``增持（维持）``, ``推荐`` + ``维持评级``,
   ``评级`` + ``强烈推荐``): the stock's rating in a company report, the industry rating otherwise.
5. Dates: printed publication date, quoted-price date, inferred publication date (:mod:`engine.signals.dates`).
6. Stocks: the company of a company report (``名称 (代码)`` header, 目标价, 现价), rows of recommendation tables
   (:mod:`engine.signals.tables`), mentions (:mod:`engine.signals.mentions`) resolved through the security master.
7. Actions stated in the text (首次覆盖 / 维持 / 上调 / 下调), per stock section.

Three input forms, one result. Text without line structure (whitespace-stripped, :func:`is_stripped`) is read
flat (:mod:`engine.signals.flat_report`: template tags, tables run together, header-block ratings). Text with lines
(markdown, text exports, a PDF's text) is read line by line (steps above) *and* flat; the flat reading is kept when
it finds more rated stocks or the line reading found no stock at all, with an ``info`` message saying so.

Nothing here raises on odd input: problems become messages; :func:`extract_report` only returns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from engine.signals.broker_names import KNOWN_BROKERS
from engine.signals.dates import find_price_date, find_publication_date, infer_publication_date, parse_date
from engine.signals.flat_report import FlatReport, read_flat_report, scale_lines
from engine.signals.mentions import find_mentions
from engine.signals.scales import (
    RATING_WORDS,
    RatingScale,
    ScalePart,
    ScaleRegistry,
    compare_scales,
    normalize_broker_text,
    parse_scale_section,
)
from engine.signals.schema import complete_row
from engine.signals.security_master import SecurityMaster
from engine.signals.stripped import flatten, is_stripped
from engine.signals.tables import find_stock_tables
from engine.symbols import SymbolError, default_benchmark, parse_symbol

__all__ = ["Message", "ReportExtract", "extract_report", "detect_broker", "choose_scale", "scale_source_label",
           "make_signal_id"]

_RATING_RE = "|".join(sorted((re.escape(w) for w in RATING_WORDS), key=len, reverse=True))
_ACTION_WORDS = {
    "首次": "initiate", "首次覆盖": "initiate", "首次评级": "initiate", "首次给予": "initiate",
    "维持": "reiterate", "维持评级": "reiterate", "重申": "reiterate",
    "上调": "upgrade", "调高": "upgrade", "提升": "upgrade", "上调评级": "upgrade",
    "下调": "downgrade", "调低": "downgrade", "降低": "downgrade", "下调评级": "downgrade",
}
_HEAD_RATING_RE = re.compile(
    rf"^(?:(?:投资|行业|公司|股票)?评级\s*[:：]\s*)?({_RATING_RE})\s*"
    rf"(?:[（(]\s*(首次覆盖|首次评级|首次|维持评级|维持|上调|下调|调高|调低)\s*[)）])?$"
)
_ACTION_LINE_RE = re.compile(r"^(首次覆盖|首次评级|首次|维持评级|维持|上调评级|上调|下调评级|下调|调高|调低)(?:评级)?$")
_DISCLAIMER_RE = re.compile(
    r"(?:分析师声明|分析师承诺|免责声明|免责条款|重要声明|法律声明|特别声明|评级说明|投资评级说明|"
    r"投资评级体系与评级定义|免责及评级说明部分|分析师简介|信息披露|一般声明|证券分析师承诺)"
)
_COMPANY_HEAD_RE = re.compile(
    r"^(.{2,20}?)\s*[（(]\s*(\d{6}\s*\.?\s*(?:SH|SZ|BJ)?|\d{1,5}\s*\.?\s*HK|(?:SH|SZ)\d{6})\s*[)）]\s*$", re.IGNORECASE
)
_TARGET_RE = re.compile(r"目标价(?:格|位)?\s*[:：]?\s*(?:\n\s*)*(\d+(?:\.\d+)?)\s*(港元|港币|元|美元|HKD|CNY|RMB|USD)?")
_PRICE_RE = re.compile(
    r"(?:现价|当前价格|当前股价|最新股价|最新收盘价|收盘价)\s*[:：]?\s*(?:\n\s*)*(\d+(?:\.\d+)?)\s*(港元|港币|元|HKD|CNY|RMB)?"
)
_STOCK_ACTION_RE = re.compile(
    rf"(首次覆盖|首次评级|首次给予|维持|上调至?|下调至?|调高至?|调低至?)([^。\n]{{0,12}}?)[“\"‘']?({_RATING_RE})[”\"’']?\s*(?:投资)?评级"
)
_SECTION_RE = re.compile(r"^(?:#{1,6}\s*|\d+(?:\.\d+)+\s+)")
_ANALYST_RE = re.compile(r"^(?:证券分析师|分析师|研究员)\s*[:：]?\s*([\u4e00-\u9fff]{2,4}(?:[\s、，,]+[\u4e00-\u9fff]{2,4})*)\s*$")
_ANALYST_STOP = {"承诺", "声明", "简介", "给出", "介绍", "信息", "认为", "预计", "认证", "确认", "执业"}
_CURRENCY = {"港元": "HKD", "港币": "HKD", "HKD": "HKD", "元": "CNY", "CNY": "CNY", "RMB": "CNY", "美元": "USD",
             "USD": "USD"}


@dataclass
class Message:
    """A per-file message. ``level``: ``error`` (file unreadable), ``warning`` (something missing or doubtful),
    ``info``."""

    level: str
    text: str

    def __str__(self) -> str:
        return f"{self.level}: {self.text}"


@dataclass
class ReportExtract:
    """What one report yielded: report-level fields, the signal rows (dicts with the signals columns) and messages."""

    source: str
    broker: str = ""
    report_date: dt.date | None = None
    date_inferred: bool = False
    report_type: str = ""
    industry: str = ""
    industry_rating: str = ""
    industry_action: str = ""
    language: str = "zh"
    analysts: list[str] = field(default_factory=list)
    price_date: dt.date | None = None
    scale: RatingScale | None = None
    #: where each part of ``scale`` came from: ``{"stock": "report" | "registry:<file>", "industry": ...}``
    scale_sources: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    #: report-level field → {"page", "offset", "snippet"}: where broker, date, type and industry rating were read
    provenance: dict = field(default_factory=dict)

    def warn(self, text: str) -> None:
        self.messages.append(Message("warning", text))

    def info(self, text: str) -> None:
        self.messages.append(Message("info", text))

    @property
    def n_ratings(self) -> int:
        return sum(1 for r in self.rows if r["kind"] == "rating")

    @property
    def n_mentions(self) -> int:
        return sum(1 for r in self.rows if r["kind"] == "mention")


def make_signal_id(broker: str, key: str, report_date: dt.date | None, kind: str) -> str:
    """Deterministic id of a signal: sha1 of ``broker|code-or-name|date|kind``, first 16 hex digits."""
    raw = f"{broker}|{key}|{report_date.isoformat() if report_date else ''}|{kind}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------------------------

_NOT_BROKER_RE = re.compile(r"[\u4e00-\u9fff]{2}证券(?:交易所|时报|日报|报|业协会|登记结算|市场)")


def detect_broker(text: str, registry: ScaleRegistry) -> str:
    """Canonical name of the broker that wrote ``text`` (see module docstring); ``""`` when none is named."""
    norm = _NOT_BROKER_RE.sub("", normalize_broker_text(text))
    counts: Counter[str] = Counter()
    for alias, canonical in registry.alias_items():
        if alias and alias in norm:
            counts[canonical] += norm.count(alias)
            norm = norm.replace(alias, "")
    if counts:
        return counts.most_common(1)[0][0]
    found = re.findall(r"([\u4e00-\u9fff]{2,6}证券(?:\([\u4e00-\u9fff]{2,4}\))?)(?:股份有限公司|有限责任公司|有限公司|研究所|研究院|研究部)",
                       norm)
    if found:
        return Counter(found).most_common(1)[0][0]
    return ""


_BROKER_SUFFIX_RE = re.compile(r"证券(?=股份有限公司|有限责任公司|有限公司|研究所|研究院|研究部|研究中心|\(香港\)|研究发展中心)")
_BROKER_LEAD_RE = re.compile(
    r"^(?:本报告版权属于|版权属于|版权归|版权所有|归属于|属于|本报告由|本报告|研究报告|究报告|报告|重要声明|法律声明|声明|"
    r"信息披露|披露|年加入|加入|免责|来源|资料|数据|由|于|归|为|及|与|和|是|的|在|告|明|所|司|师|部|任|见|自)+")


_NOT_BROKER_TAIL_RE = re.compile(r"证券(?:交易所|时报|日报|报|业协会|登记结算|市场)")


def _drop_not_brokers(norm: str) -> str:
    """``norm`` without ``XX证券交易所`` / ``XX证券报`` … (names that are not brokers); a literal-prefix search."""
    parts, last = [], 0
    for m in _NOT_BROKER_TAIL_RE.finditer(norm):
        parts.append(norm[last: max(last, m.start() - 2)])
        last = m.end()
    parts.append(norm[last:])
    return "".join(parts)


_MATCHERS: dict[tuple, tuple[dict[str, str], re.Pattern, dict[str, int]]] = {}


def _broker_matcher(registry: ScaleRegistry) -> tuple[dict[str, str], re.Pattern, dict[str, int]]:
    """(alias → name, one pattern of every alias, longest first, alias → rank in that order) for a registry, built
    once per process per set of aliases (one scan of the text instead of one per alias)."""
    items = tuple(registry.alias_items())
    got = _MATCHERS.get(items)
    if got is None:
        names = {alias: canonical for alias, canonical in items if alias}
        for name in KNOWN_BROKERS:
            names.setdefault(normalize_broker_text(name), name)
        order = sorted(names, key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(a) for a in order))
        got = _MATCHERS[items] = (names, pattern, {a: k for k, a in enumerate(order)})
    return got


def detect_broker_flat(flat: str, registry: ScaleRegistry) -> str:
    """Broker of flat (whitespace-stripped) text.

    Every registry alias and every name of :data:`engine.signals.broker_names.KNOWN_BROKERS` is counted (longest
    first, each occurrence counted once); an occurrence that signs the report — followed by 股份有限公司 / 有限公司 /
    研究所 / 研究院 / 研究部 / 研究中心 / 经济研究所 — counts three times. Without any known name, the most frequent
    ``X证券`` before such a suffix is used, with leading words (``版权属于``, ``本报告由``) cut off. The result is
    the registry's canonical name when the registry knows the spelling.
    """
    norm = _drop_not_brokers(normalize_broker_text(flat))
    names, pattern, rank = _broker_matcher(registry)
    per_alias: Counter[str] = Counter()
    for m in pattern.finditer(norm):
        per_alias[m.group(0)] += 3 if _SIGN_SUFFIX_RE.match(norm, m.end()) else 1
    counts: Counter[str] = Counter()
    for alias in sorted(per_alias, key=rank.__getitem__):   # ties go to the longest alias, as printed first
        counts[names[alias]] += per_alias[alias]
    if counts:
        best = counts.most_common(1)[0][0]
        return registry.canonical(best) or best
    found: Counter[str] = Counter()
    for m in _BROKER_SUFFIX_RE.finditer(norm):
        before = norm[max(0, m.start() - 8): m.start()]
        cjk = re.search(r"[\u4e00-\u9fff]+$", before)
        if not cjk:
            continue
        name = cjk.group(0)
        while True:
            cut = _BROKER_LEAD_RE.sub("", name)
            if cut == name or len(cut) < 2:
                break
            name = cut
        if len(name) >= 2:
            suffix = "(香港)" if norm.startswith("证券(香港)", m.start()) else ""
            found[name + "证券" + suffix] += 1
    if not found:
        return _credited_author(norm)
    best = found.most_common(1)[0][0]
    return registry.canonical(best) or best


_CREDIT_RE = re.compile(r"(?:资料来源|数据来源|来源)[:：][^:：。]{0,60}?[，,、]([\u4e00-\u9fff]{2,8}?)(?:分析|整理|测算|研究)")


def _credited_author(norm: str) -> str:
    """The author of a report that names no broker (a research firm, a consultancy): the name it credits its own
    work to in the charts' source lines, ``资料来源：Wind，X分析`` / ``…，X整理``, when at least two lines credit it and it
    is the most frequent such name; ``""`` otherwise."""
    found = Counter(m.group(1) for m in _CREDIT_RE.finditer(norm))
    if not found:
        return ""
    name, n = found.most_common(1)[0]
    return name if n >= 2 else ""


_SIGN_SUFFIX_RE = re.compile(r"(?:\(香港\))?(?:股份有限公司|有限责任公司|有限公司|研究所|研究院|研究部|研究中心|研究发展|"
                             r"经济研究所|经济与金融研究院)")


def scale_source_label(source: str) -> str:
    """``scale_source`` of a row: ``report`` for a report's own 评级说明, else ``registry:<file or source>``."""
    if not source or source == "report" or source.startswith("registry:"):
        return source or ""
    return f"registry:{source}"


def choose_scale(text: str, broker: str, registry: ScaleRegistry, out: ReportExtract,
                 date: dt.date | None = None) -> RatingScale | None:
    """The scale the report's ratings are judged by, with messages (see module docstring). The registry's version is
    the one in force on ``date`` (the report's date; ``None`` = newest, :meth:`ScaleRegistry.scale_for`).
    ``out.scale_sources`` records where the stock and industry parts came from."""
    own = parse_scale_section(text)
    reg = registry.scale_for(broker, date) if broker else None
    if own is not None and (own.stock is None and own.industry is None):
        own = None
    reg_label = scale_source_label(reg.source) if reg is not None else ""
    if own is not None:
        out.scale_sources = {part: ("report" if getattr(own, part) is not None else
                                    reg_label if reg is not None and getattr(reg, part) is not None else "")
                             for part in ("stock", "industry")}
        own = own.model_copy(update={"broker": broker})
        if reg is not None:
            diffs = compare_scales(own, reg)
            if diffs:
                out.warn(f"评级说明 differs from the registry scale ({reg.source}): {'; '.join(diffs)}; "
                         "using the report's own")
            own = _fill_from(own, reg)
        elif broker:
            out.warn(f"broker {broker!r} is not in the scale registry (configs/ratings); using the report's own 评级说明")
        return own
    if reg is not None:
        out.scale_sources = {part: reg_label if getattr(reg, part) is not None else "" for part in ("stock", "industry")}
        out.warn(f"no 评级说明 (rating definitions) found in the report; using the registry scale ({reg.source}"
                 f"{', in force on ' + str(date) if date else ''})")
        return reg
    out.scale_sources = {}
    who = f"broker {broker!r} is not in the scale registry" if broker else "no broker named in the report"
    out.warn(f"no rating scale: the report has no 评级说明 and {who}; bands and rating levels left empty")
    return None


def _fill_from(own: RatingScale, reg: RatingScale) -> RatingScale:
    """Fill parts / horizon / benchmarks the report leaves out from the registry."""
    update = {}
    for part_name in ("stock", "industry"):
        a, b = getattr(own, part_name), getattr(reg, part_name)
        if a is None:
            update[part_name] = b
        elif b is not None:
            update[part_name] = a.model_copy(update={
                "horizon_months": a.horizon_months or b.horizon_months,
                "benchmarks": {**b.benchmarks, **a.benchmarks},
            })
    return own.model_copy(update=update)


def _body_end(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        if i < 10:
            continue
        stripped = line.strip().strip("#*:：").strip()
        if stripped and _DISCLAIMER_RE.fullmatch(stripped):
            return i
    return len(lines)


def _head(lines: list[str], limit: int = 120) -> list[str]:
    out = []
    for line in lines[:limit]:
        if re.fullmatch(r"(?:#\s*)?(?:正文)?目录", line.strip()):
            break
        out.append(line)
    return out


def classify_report(head_text: str, title: str, has_company_head: bool, has_tables: bool,
                    industry_rating: str) -> str:
    """``weekly`` / ``strategy`` / ``company`` / ``industry`` / ``""`` from the title region and structure."""
    if re.search(r"周报|周观点|周度|周报告|周刊|周评|每周|周跟踪|\d{8}\s*[-—~]\s*\d{8}", title):
        return "weekly"
    if "策略" in title:
        return "strategy"
    if has_company_head or re.search(r"首次覆盖报告|公司研究|公司点评|公司深度|公司报告|公司动态|公司简评|公司跟踪", title):
        return "company"
    if industry_rating or has_tables or re.search(r"行业", title):
        return "industry"
    return ""


def head_rating(head: list[str]) -> tuple[str, str]:
    """(rating, action) printed as a standalone line near the top; ``("", "")`` when none."""
    for i, raw in enumerate(head):
        line = raw.strip().strip("#*").strip()
        m = _HEAD_RATING_RE.match(line)
        if not m:
            continue
        action = _ACTION_WORDS.get(m.group(2) or "", "")
        if not action:
            for nxt in head[i + 1: i + 4]:
                n = nxt.strip()
                if not n:
                    continue
                am = _ACTION_LINE_RE.match(n)
                if am:
                    action = _ACTION_WORDS.get(am.group(1), "")
                break
        return m.group(1), action
    return "", ""


def _industry_name(head_text: str, body: str) -> str:
    for pattern, text in (
        (r"行业\s*[:：]\s*([\u4e00-\u9fffA-Za-z]{2,10})", head_text),
        (r"——\s*([\u4e00-\u9fff]{2,8}?)行业(?:周报|月报|点评|深度|研究|报告|动态|跟踪)", head_text),
        (rf"(?:维持|给予|上调|下调)([\u4e00-\u9fff]{{2,8}}?)行业\s*[“\"]?(?:{_RATING_RE})[”\"]?\s*评级", body),
    ):
        m = re.search(pattern, text)
        if m:
            return m.group(1)
    return ""


def _analysts(head: list[str]) -> list[str]:
    names: list[str] = []
    for i, raw in enumerate(head):
        line = raw.strip().strip("#*").strip()
        if line in ("分析师", "研究员", "证券分析师"):
            for nxt in head[i + 1: i + 4]:
                n = nxt.strip()
                if n:
                    if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", n) and n not in _ANALYST_STOP:
                        names.append(n)
                    break
            continue
        m = _ANALYST_RE.match(line)
        if m:
            for name in re.split(r"[\s、，,]+", m.group(1)):
                if name and not any(stop in name for stop in _ANALYST_STOP) and name not in names:
                    names.append(name)
    return names


def _sections(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) character offsets of heading-delimited sections of the joined text."""
    offsets, pos = [], 0
    starts = [0]
    for line in lines:
        if _SECTION_RE.match(line.strip()) and len(line.strip()) < 60:
            starts.append(pos)
        offsets.append(pos)
        pos += len(line) + 1
    starts = sorted(set(starts))
    return [(s, e) for s, e in zip(starts, starts[1:] + [pos])]


def _stated_actions(text: str, lines: list[str], names: dict[str, str]) -> dict[str, tuple[str, str]]:
    """code → (action, rating in the phrase) from phrases like ``首次覆盖，给予“推荐”评级`` in each stock's section."""
    out: dict[str, tuple[str, str]] = {}
    sections = _sections(lines)
    for m in _STOCK_ACTION_RE.finditer(text):
        if "行业" in m.group(2):
            continue
        verb = m.group(1)
        action = next((a for w, a in _ACTION_WORDS.items() if verb.startswith(w)), "")
        if not action:
            continue
        start, end = next(((s, e) for s, e in sections if s <= m.start() < e), (0, len(text)))
        section = text[start:end]
        rel = m.start() - start
        best: tuple[int, str] | None = None
        for name, code in names.items():
            for hit in re.finditer(re.escape(name), section):
                distance = rel - hit.start() if hit.start() <= rel else (hit.start() - rel) + 10_000
                if best is None or distance < best[0]:
                    best = (distance, code)
        if best is not None and best[1] not in out:
            out[best[1]] = (action, m.group(3))
    return out


def _market(code: str) -> str:
    try:
        return parse_symbol(code).market.value
    except SymbolError:
        return ""


def _num_or_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


# ---------------------------------------------------------------------------------------------------------------

def extract_report(text: str, source: str, registry: ScaleRegistry, master: SecurityMaster,
                   pdf_choice: bool = True) -> ReportExtract:
    """Extract one report (see module docstring). Never raises on malformed text; problems become messages.
    A Chinese PDF's text (``source`` ending in ``.pdf``) is read both ways, see :mod:`engine.signals.pdf_extract`."""
    out = ReportExtract(source=source)
    if not text or not text.strip():
        out.warn("empty file: no text to extract")
        return out
    from engine.signals.english import extract_english, is_english  # English reports of foreign brokers

    if is_english(text):
        return extract_english(text, source, registry, master)
    if is_stripped(text):
        return _extract_flat(text, out, registry, master)
    if pdf_choice and source.lower().endswith(".pdf"):
        from engine.signals.pdf_extract import extract_pdf_text
        return extract_pdf_text(text, source, registry, master)
    out = _extract_lines(text, out, registry, master)
    alt = _extract_flat(text, ReportExtract(source=source), registry, master)
    if alt.n_ratings > out.n_ratings or not out.rows:
        alt.info(f"read as flat text: {alt.n_ratings} rated stock(s) against {out.n_ratings} line by line")
        return alt
    if out.report_date is None and alt.report_date is not None and not alt.date_inferred:
        _set_report_date(out, alt.report_date, alt.provenance.get("report_date"))
    return out


def _set_report_date(rep: ReportExtract, day: dt.date, where: dict | None) -> None:
    """Give a report (and its rows, ids included) the publication date another reading found."""
    rep.report_date, rep.date_inferred = day, False
    if where:
        rep.provenance["report_date"] = where
    rep.info(f"publication date {day} read from the flat text")
    for row in rep.rows:
        row["report_date"], row["date_inferred"] = day, False
        row["signal_id"] = make_signal_id(rep.broker, row["code"] or row["name"], day, row["kind"])


def _extract_lines(text: str, out: ReportExtract, registry: ScaleRegistry, master: SecurityMaster) -> ReportExtract:
    """A report with line structure (markdown, text exports with tab-separated tables)."""
    text = re.sub(r"\*\*|</?b>|__", "", text.replace("\u3000", " ").replace("\xa0", " "))
    lines = text.split("\n")
    body_end = _body_end(lines)
    body_lines = lines[:body_end]
    body = "\n".join(body_lines)
    head = _head(lines)
    head_text = "\n".join(head)
    title = "\n".join([ln for ln in head if ln.strip()][:15])

    out.broker = detect_broker_flat(flatten(text)[0], registry)
    if not out.broker:
        out.warn("broker not found: no known broker name or 'XX证券…有限公司/研究所' in the text")
    company_head = None
    for raw in head[:25]:
        m = _COMPANY_HEAD_RE.match(raw.strip())
        if m:
            try:
                company_head = (m.group(1).strip(), parse_symbol(m.group(2)).code)
                break
            except SymbolError:
                continue
    tables = find_stock_tables(body_lines)
    rec_tables = [t for t in tables if t.recommends and t.rows]
    rating_word, rating_action = head_rating(head)
    out.report_type = classify_report(head_text, title, company_head is not None, bool(rec_tables), rating_word)
    is_company = out.report_type == "company"
    industry_phrase = re.search(rf"(?:维持|给予|上调|下调)[\u4e00-\u9fff]{{0,8}}行业\s*[“\"]?({_RATING_RE})[”\"]?\s*评级", body)
    if is_company:
        out.industry_rating = industry_phrase.group(1) if industry_phrase else ""
    else:
        out.industry_rating = rating_word or (industry_phrase.group(1) if industry_phrase else "")
    out.industry = _industry_name(head_text, body)
    out.analysts = _analysts(lines[:body_end] if body_end < len(lines) else head)

    # ---- dates
    printed = find_publication_date(lines)
    price_match = _PRICE_RE.search(head_text) if is_company else None
    price_date = find_price_date(body, near=price_match.start() if price_match else None)
    if price_date is None:
        price_date = next((t.price_date for t in rec_tables if t.price_date), None)
    out.price_date = price_date

    # ---- scale in force on the report's date (printed, else the quoted-price date)
    scale = choose_scale(text, out.broker, registry, out, date=printed or price_date)
    out.scale = scale
    if scale is not None and out.industry_rating and scale.industry is not None \
            and out.industry_rating not in scale.industry.ratings():
        out.warn(f"industry rating {out.industry_rating!r} is not in {out.broker}'s industry scale "
                 f"({'/'.join(scale.industry.ratings())})")

    # ---- stocks
    rated: dict[str, dict] = {}
    mentions: dict[str, dict] = {}
    table_names: dict[str, str] = {}

    def stock_row(code: str, name: str, kind: str, rating: str, price: float | None, target: float | None,
                  p_date: dt.date | None, currency: str | None, action: str = "") -> dict:
        return {"code": code, "name": name, "kind": kind, "rating": rating, "price_at_report": price,
                "target_price": target, "price_date": p_date if price is not None else None,
                "currency": currency, "action": action}

    if is_company:
        if company_head is None:
            out.warn("company report without a 'name (code)' header: stock not identified")
        else:
            name, code = company_head
            target_m = _TARGET_RE.search(head_text)
            target = float(target_m.group(1)) if target_m else None
            price = float(price_match.group(1)) if price_match else None
            unit = (target_m.group(2) if target_m and target_m.group(2) else
                    price_match.group(2) if price_match and price_match.group(2) else None)
            action = rating_action
            if not action:
                m = re.search(r"首次覆盖|首次评级|首次给予", text)
                action = "initiate" if m else ""
            if not rating_word:
                out.warn(f"company report on {code}: no rating found near the top")
            if target is None:
                out.info(f"{code}: no target price printed")
            rated[code] = stock_row(code, name, "rating", rating_word, price, target, price_date,
                                    _CURRENCY.get(unit or ""), action)
    for table in rec_tables:
        for row in table.rows:
            table_names[row.name] = row.code
            if row.rating and row.code not in rated:
                rated[row.code] = stock_row(row.code, row.name, "rating", row.rating, row.price, row.target,
                                            table.price_date or price_date, None, row.action)
            elif not row.rating and row.code not in rated and row.code not in mentions:
                mentions[row.code] = stock_row(row.code, row.name, "mention", "", row.price, None,
                                               table.price_date or price_date, None)
    for code, (action, phrase_rating) in _stated_actions(body, body_lines,
                                                         {r["name"]: c for c, r in rated.items()}).items():
        if code in rated and not rated[code]["action"]:
            rated[code]["action"] = action
            if phrase_rating != rated[code]["rating"]:
                out.warn(f"{code}: text says {phrase_rating!r} but the table rates it {rated[code]['rating']!r}")

    unresolved: list[str] = []
    rated_names = {r["name"] for r in rated.values()}
    for item in find_mentions(body, list(table_names)):
        code = item.code or table_names.get(item.name) or master.lookup(item.name)
        if code in rated or item.name in rated_names:
            continue
        if code is None:
            key = "name:" + item.name
            if key not in mentions:
                mentions[key] = stock_row("", item.name, "mention", "", None, None, None, None)
                unresolved.append(item.name + (" (marked 未上市, unlisted)" if item.unlisted else ""))
            continue
        if code not in mentions:
            mentions[code] = stock_row(code, item.name, "mention", "", None, None, None, None)
    if unresolved:
        out.warn(f"{len(unresolved)} mentioned name(s) not resolved to a code (kept with an empty code): "
                 f"{', '.join(unresolved)}; add them to configs/security_names.csv or pass --names")

    # ---- report date
    market = next((_market(c) for c in list(rated) + list(mentions) if _market(c)), "A")
    if printed is not None:
        out.report_date = printed
    elif price_date is not None:
        out.report_date = infer_publication_date(price_date, body, market)
        out.date_inferred = True
        out.info(f"no publication date printed; inferred {out.report_date} (next session after the quoted-price "
                 f"date {price_date})")
    else:
        out.warn("no publication date printed and no quoted-price date to infer it from: report_date left empty")

    if not rated and not mentions:
        out.warn("no rated stocks or mentioned stocks found" +
                 (f" (industry rating {out.industry_rating} only)" if out.industry_rating else ""))

    # ---- rows
    stock_scale: ScalePart | None = scale.stock if scale is not None else None
    for entry in list(rated.values()) + list(mentions.values()):
        out.rows.append(_finish_row(entry, out, stock_scale))
    return out


def _finish_row(entry: dict, rep: ReportExtract, stock_scale: ScalePart | None) -> dict:
    code = entry["code"]
    market = _market(code) if code else ""
    rating = entry["rating"]
    level, low, high = math.nan, math.nan, math.nan
    if entry["kind"] == "rating" and rating and stock_scale is not None:
        band = stock_scale.band(rating)
        if band is None:
            rep.warn(f"{code}: rating {rating!r} is not in {rep.broker}'s stock scale "
                     f"({'/'.join(stock_scale.ratings())})")
        else:
            level = stock_scale.level(rating)
            low, high = _num_or_nan(band.low), _num_or_nan(band.high)
    benchmark = ""
    if code:
        benchmark = (stock_scale.benchmark_for(market) if stock_scale is not None else None) or default_benchmark(code)
    currency = entry["currency"] or ("HKD" if market == "HK" else "CNY" if market == "A" else "")
    key = code or entry["name"]
    return complete_row({
        "signal_id": make_signal_id(rep.broker, key, rep.report_date, entry["kind"]),
        "source": rep.source,
        "broker": rep.broker,
        "report_date": rep.report_date,
        "date_inferred": rep.date_inferred,
        "report_type": rep.report_type,
        "industry": rep.industry,
        "industry_rating": rep.industry_rating,
        "code": code,
        "name": entry["name"],
        "market": market,
        "kind": entry["kind"],
        "rating": rating,
        "rating_level": level,
        "action": entry["action"],
        "target_price": _num_or_nan(entry["target_price"]),
        "price_at_report": _num_or_nan(entry["price_at_report"]),
        "price_date": entry["price_date"],
        "currency": currency,
        "horizon_months": (stock_scale.horizon_months or "") if stock_scale is not None else "",
        "benchmark": benchmark,
        "band_low": low,
        "band_high": high,
        "analysts": ";".join(rep.analysts),
        "broker_group": rep.broker,
        "benchmark_promised": (stock_scale.promised_for(market) if stock_scale is not None and market else ""),
        "scale_type": stock_scale.scale_type if stock_scale is not None else "",
        "scale_source": rep.scale_sources.get("stock", "") if stock_scale is not None else "",
    })


# ---------------------------------------------------------------------------------------------------------------
# Flat (whitespace-stripped) text

_ACTION_OF = {"initiate": "initiate", "reiterate": "reiterate", "upgrade": "upgrade", "downgrade": "downgrade"}


def _industry_word_in_head(rep: FlatReport, words: list[str], limit: int = 1200) -> tuple[str, int]:
    """The first word of the report's own industry scale printed in the header block (outside table rows and
    stock-rating forms), e.g. ``…资本化加速看好——玻尿酸行业动态点评``; ``("", -1)`` when none."""
    words = [w for w in words if w]
    if not words:
        return "", -1
    pattern = re.compile("|".join(sorted((re.escape(w) for w in words), key=len, reverse=True)))
    stop = min(limit, rep.body_end, len(rep.flat))
    for m in pattern.finditer(rep.flat, 0, stop):
        around = rep.flat[max(0, m.start() - 4): m.end() + 4]
        if re.search(r"评级说明|评级标准", around) or "公司" in rep.flat[m.end(): m.end() + 2]:
            continue
        return m.group(0), m.start()
    return "", -1


def _extract_flat(text: str, out: ReportExtract, registry: ScaleRegistry, master: SecurityMaster) -> ReportExtract:
    """A report without line structure (see :mod:`engine.signals.flat_report`)."""
    rep: FlatReport = read_flat_report(text)
    out.broker = detect_broker_flat(rep.flat, registry)
    if not out.broker:
        out.warn("broker not found: no known broker name or 'XX证券…有限公司/研究所' in the text")
    scale_text = scale_lines(rep.flat, rep.body_end)
    scale_day = rep.date.date if rep.date is not None else next((x.price_date for x in rep.stocks if x.price_date), None)
    scale = choose_scale(scale_text, out.broker, registry, out, date=scale_day)
    out.scale = scale
    out.report_type = rep.report_type
    out.industry = rep.industry
    if rep.industry_rating is not None:
        out.industry_rating = rep.industry_rating.rating
        out.industry_action = rep.industry_rating.action
    if not out.industry_rating and out.report_type != "company" and scale is not None and scale.industry is not None:
        word, offset = _industry_word_in_head(rep, scale.industry.ratings())
        if word:
            out.industry_rating = word
            out.info(f"industry rating {word!r} read from the header block (a word of the report's industry scale)")
    out.analysts = rep.analysts
    if out.broker:
        pos = rep.flat.find(out.broker)
        if pos >= 0:
            out.provenance["broker"] = {"page": None, "offset": rep.at(pos), "snippet": rep.snippet(pos, pos + 40)}
    if rep.date is not None:
        out.provenance["report_date"] = {"page": None, "offset": rep.at(rep.date.offset), "snippet": rep.date.snippet}
    if rep.industry_rating is not None:
        out.provenance["industry_rating"] = {"page": None, "offset": rep.at(rep.industry_rating.offset),
                                             "snippet": rep.industry_rating.snippet[:60]}
    if rep.analysts:
        pos = rep.flat.find(rep.analysts[0])
        out.provenance["analysts"] = {"page": None, "offset": rep.at(pos), "snippet": rep.snippet(pos - 6, pos + 20)}
    for note in rep.notes:
        out.warn(note)
    prices = [s.price_date for s in rep.stocks if s.price_date]
    out.price_date = prices[0] if prices else None
    if rep.date is not None:
        out.report_date = rep.date.date
    elif out.price_date is not None:
        out.report_date = infer_publication_date(out.price_date, "", "A")
        out.date_inferred = True
        out.info(f"no publication date printed; inferred {out.report_date} (next session after the quoted-price "
                 f"date {out.price_date})")
    else:
        out.warn("no publication date printed and no quoted-price date to infer it from: report_date left empty")
    if not rep.stocks:
        out.warn("no rated stocks or mentioned stocks found" +
                 (f" (industry rating {out.industry_rating} only)" if out.industry_rating else ""))
    stock_scale: ScalePart | None = scale.stock if scale is not None else None
    date_prov = ({"report_date": {"page": None, "offset": rep.at(rep.date.offset), "snippet": rep.date.snippet}}
                 if rep.date is not None else {})
    for s in rep.stocks:
        entry = {
            "code": s.code, "name": s.name, "kind": s.kind, "rating": s.rating if s.kind == "rating" else "",
            "price_at_report": s.price.value if s.price is not None else None,
            "target_price": s.target.value if s.target is not None else None,
            "price_date": s.price_date, "currency": s.currency or None, "action": s.action,
        }
        row = _finish_row(entry, out, stock_scale)
        row.update({
            "risk_suffix": s.risk_suffix,
            "previous_rating": s.previous_rating,
            "target_low": s.target.low if s.target is not None and s.target.low is not None else math.nan,
            "target_high": s.target.high if s.target is not None and s.target.high is not None else math.nan,
            "target_horizon_months": float(s.target.horizon_months) if s.target is not None
            and s.target.horizon_months else math.nan,
            "industry_action": out.industry_action,
            "language": out.language,
            "confidence": s.confidence,
            "evidence": s.evidence[:120],
            "provenance": json.dumps({**date_prov, **s.provenance}, ensure_ascii=False),
        })
        out.rows.append(row)
    return out
