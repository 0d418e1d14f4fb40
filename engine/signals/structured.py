"""Structured rating sources → the signals table: a ratings CSV, akshare's ``stock_research_report_em`` and
``stock_rank_forecast_cninfo``.

Ratings CSV (UTF-8, one row per recommendation; column names exactly as below):

=================  ========  ================================================================================
column             required  meaning
=================  ========  ================================================================================
broker             yes       broker name (aliases in ``configs/ratings/aliases.yaml`` are mapped to one name)
report_date        yes       publication date, ``YYYY-MM-DD``
code               yes       any spelling :func:`engine.symbols.normalize_symbol` reads (``300474``, ``6082.HK``)
rating             yes*      the broker's rating word as printed (``推荐``); may be empty when ``kind=mention``
name               no        stock name
kind               no        ``rating`` (default) or ``mention``
action             no        ``initiate`` / ``reiterate`` / ``upgrade`` / ``downgrade`` (or 首次/维持/上调/下调)
target_price       no        target price in ``currency``
price_at_report    no        quoted price in ``currency``; ``price_date`` its close date
currency           no        ``CNY`` / ``HKD`` (default: the stock's market)
analysts           no        names separated by ``;``
report_type, industry, industry_rating, horizon_months, benchmark, band_low, band_high: optional overrides;
                             otherwise horizon, benchmark, bands and ``rating_level`` come from the broker's
                             registry scale (``configs/ratings``).
=================  ========  ================================================================================

Column names as users have them are recognised (:data:`COLUMN_SYNONYMS`: ``date``/``发布日期``/``日期`` →
``report_date``, ``机构``/``研究机构简称`` → ``broker``, ``投资评级``/``评级``/``最新评级`` → ``rating``,
``analyst``/``研究员``/``分析师`` → ``analysts``, ``股票代码``/``证券代码`` → ``code``, ``股票简称`` → ``name``,
``目标价`` → ``target_price``, ``rating_change``/``评级变化`` → ``action`` …), or mapped explicitly
(``column_map={"report_date": "发布时间"}``, the CLI's ``--map report_date=发布时间``). Rating words are normalised
(:func:`normalize_rating`: ``买入-A`` → ``买入`` with ``risk_suffix`` ``A``; traditional ``買入`` → ``买入``); words
outside the known vocabulary are reported with their counts. ``broker_group`` is filled by
:func:`engine.signals.brokers.fill_broker_group`; scales are taken by date (``registry.scale_for``).

A file that already has every signals column (a previous ``ratingbt ingest -o x.csv``) is read as is.
Bad rows are skipped with a message naming the file, line and field; the other rows are kept.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from engine.signals.brokers import fill_broker_group
from engine.signals.extract import Message, make_signal_id
from engine.signals.scales import RATING_WORDS, ScalePart, ScaleRegistry
from engine.signals.schema import (REQUIRED_SIGNAL_COLUMNS, SIGNAL_COLUMNS, coerce_signals, complete_row,
                                   empty_signals)
from engine.symbols import SymbolError, default_benchmark, parse_symbol

__all__ = [
    "RATINGS_CSV_REQUIRED",
    "is_ratings_csv",
    "signals_from_ratings_csv",
    "signals_from_records",
    "signals_from_research_report_em",
    "signals_from_rank_forecast_cninfo",
    "fetch_research_report_em",
    "fetch_rank_forecast_cninfo",
    "EASTMONEY_SCALE",
    "COLUMN_SYNONYMS",
    "normalize_rating",
    "map_columns",
    "parse_column_map",
]

RATINGS_CSV_REQUIRED = ["broker", "report_date", "code", "rating"]
#: canonical column → names seen in users' files and vendors' exports (matched after trimming, case-insensitive)
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "report_date": ("report_date", "date", "发布日期", "日期", "报告日期", "发布时间", "评级日期", "publish_date"),
    "broker": ("broker", "机构", "研究机构简称", "机构名称", "研究机构", "评级机构", "券商", "institution"),
    "rating": ("rating", "投资评级", "评级", "最新评级", "评级名称", "本次评级"),
    "analysts": ("analysts", "analyst", "研究员", "分析师", "研究员名称", "作者", "author"),
    "code": ("code", "股票代码", "证券代码", "代码", "symbol", "ticker"),
    "name": ("name", "股票简称", "证券简称", "股票名称", "简称"),
    "target_price": ("target_price", "目标价", "目标价格"),
    "action": ("action", "rating_change", "评级变化", "评级变动", "评级调整"),
    "previous_rating": ("previous_rating", "前一次投资评级", "上次评级"),
}
_TRAD = str.maketrans("買賣優於減謹薦強標準觀迴進區間贏輸後領業級評無調", "买卖优于减谨荐强标准观回进区间赢输后领业级评无调")
_SUFFIX_RE = re.compile(r"^(.+?)\s*(?:[-－—–_]\s*([A-Da-d][+]?|[高中低]风险)|[(（]\s*([A-Da-d]|[高中低]风险)\s*[)）])$")
_KNOWN_WORDS = set(RATING_WORDS) | {"买入", "增持", "中性", "减持", "卖出", "持有", "强推", "超重"}


def normalize_rating(word: str) -> tuple[str, str]:
    """``(rating, risk_suffix)`` of a rating as printed: traditional characters to simplified, spaces removed, a risk
    grade after the word kept apart (``买入-A`` → (``买入``, ``A``); ``增持（B）`` → (``增持``, ``B``))."""
    text = re.sub(r"\s+", "", str(word or "")).translate(_TRAD)
    m = _SUFFIX_RE.match(text)
    if m and (m.group(1) in _KNOWN_WORDS or len(m.group(1)) >= 2):
        return m.group(1), (m.group(2) or m.group(3) or "").upper()
    return text, ""


def parse_column_map(items: list[str] | None) -> dict[str, str]:
    """``["report_date=发布时间", "broker=券商"]`` → ``{"report_date": "发布时间", ...}``; a ``date`` key means
    ``report_date``. Raises ``ValueError`` naming a malformed item or an unknown target column."""
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--map {item!r}: write COLUMN=NAME_IN_FILE, e.g. report_date=发布时间")
        key, value = (x.strip() for x in item.split("=", 1))
        key = {"date": "report_date", "analyst": "analysts", "rating_change": "action"}.get(key, key)
        allowed = list(COLUMN_SYNONYMS) + ["kind", "price_at_report", "price_date", "currency", "industry"]
        if key not in allowed:
            raise ValueError(f"--map {item!r}: {key!r} is not a ratings column (one of {', '.join(allowed)})")
        out[key] = value
    return out


def map_columns(columns, column_map: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """``{name in file: canonical}`` for a header: explicit ``column_map`` first, then :data:`COLUMN_SYNONYMS`
    (the first synonym present wins; a canonical name already present is kept). Also returns notes naming each
    renaming, and raises ``ValueError`` when a mapped column is not in the header."""
    header = [str(c) for c in columns]
    lookup = {c.strip().lower(): c for c in header}
    rename: dict[str, str] = {}
    notes: list[str] = []
    for canonical, name in (column_map or {}).items():
        if name.strip().lower() not in lookup:
            raise ValueError(f"mapped column {name!r} (for {canonical}) is not in the file; columns: {', '.join(header)}")
        rename[lookup[name.strip().lower()]] = canonical
    taken = set(rename.values())
    for canonical, names in COLUMN_SYNONYMS.items():
        if canonical in taken:
            continue
        for name in names:
            original = lookup.get(name.lower())
            if original is not None and original not in rename:
                rename[original] = canonical
                if original != canonical:
                    notes.append(f"column {original!r} read as {canonical}")
                break
    return rename, notes
_ACTION_MAP = {
    "initiate": "initiate", "reiterate": "reiterate", "upgrade": "upgrade", "downgrade": "downgrade",
    "首次": "initiate", "首次覆盖": "initiate", "维持": "reiterate", "上调": "upgrade", "调高": "upgrade",
    "下调": "downgrade", "调低": "downgrade", "": "", "maintain": "reiterate", "upgraded": "upgrade",
    "downgraded": "downgrade", "new": "initiate", "初次": "initiate", "首次评级": "initiate",
}
#: 东方财富's normalised rating (东财评级) is its own 5-tier vocabulary, not the broker's scale: levels only, no bands.
EASTMONEY_SCALE = ScalePart(horizon_months=None, benchmarks={}, bands=[
    {"rating": "买入"}, {"rating": "增持"}, {"rating": "中性"}, {"rating": "减持"}, {"rating": "卖出"}])


def is_ratings_csv(path: str | Path, column_map: dict[str, str] | None = None) -> bool:
    """True when ``path`` is a CSV whose header has the required ratings columns, under any recognised name
    (:data:`COLUMN_SYNONYMS`) or ``column_map`` (or all signals columns)."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return False
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    except Exception:
        return False
    if set(RATINGS_CSV_REQUIRED) <= set(header):
        return True
    try:
        rename, _ = map_columns(header, column_map)
    except ValueError:
        return bool(column_map)  # a bad --map is reported by signals_from_ratings_csv, naming the column
    return set(RATINGS_CSV_REQUIRED) <= set(rename.values())


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


@functools.lru_cache(maxsize=65536)
def _timestamp(text: str) -> pd.Timestamp:
    """``YYYY-MM-DD`` (fast path) or any form pandas reads → Timestamp; NaT when empty or unreadable."""
    if not text:
        return pd.NaT
    try:
        return pd.Timestamp(dt.date.fromisoformat(text[:10])) if len(text) in (10, 19) and text[4] == "-" else \
            pd.to_datetime(text, errors="coerce")
    except ValueError:
        return pd.to_datetime(text, errors="coerce")


def _float(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def signals_from_records(records: list[dict], registry: ScaleRegistry, source: str,
                         fallback_scale: ScalePart | None = None) -> tuple[pd.DataFrame, list[Message]]:
    """Records (dicts with the ratings-CSV columns, plus ``_where`` for messages) → signals rows.

    Scale fields come from the broker's registry scale on the report date (``registry.scale_for``) when the rating is
    in it, else from ``fallback_scale`` (levels only), else stay empty with one message per broker naming the words.
    Dropped rows are named with their reason; a summary message counts them per reason.
    """
    messages: list[Message] = []
    rows = []
    missing_scale: Counter[str] = Counter()
    unknown_words: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    scales: dict[tuple[str, object], object] = {}
    for rec in records:
        where = rec.get("_where", source)
        try:
            sym = parse_symbol(_text(rec.get("code")))
        except SymbolError as exc:
            messages.append(Message("warning", f"{where}: field code: {exc}; row skipped"))
            dropped["code not readable"] += 1
            continue
        report_date = _timestamp(_text(rec.get("report_date")))
        if pd.isna(report_date):
            messages.append(Message("warning", f"{where}: field report_date: {rec.get('report_date')!r} is not a "
                                               "date (YYYY-MM-DD); row skipped"))
            dropped["date not readable"] += 1
            continue
        broker_raw = _text(rec.get("broker"))
        broker = registry.canonical(broker_raw) or broker_raw
        kind = _text(rec.get("kind")) or "rating"
        if kind not in ("rating", "mention"):
            messages.append(Message("warning", f"{where}: field kind: {kind!r} not one of rating, mention; "
                                               "row skipped"))
            dropped["kind not rating/mention"] += 1
            continue
        rating, risk_suffix = normalize_rating(_text(rec.get("rating")))
        if rating and rating not in _KNOWN_WORDS:
            unknown_words[rating] += 1
        action_raw = _text(rec.get("action"))
        action = _ACTION_MAP.get(action_raw)
        if action is None:
            messages.append(Message("warning", f"{where}: field action: {action_raw!r} not one of initiate, "
                                               "reiterate, upgrade, downgrade (or 首次/维持/上调/下调); left empty"))
            action = ""
        day = report_date.date()
        key = (broker, day, rating)
        if key not in scales:
            scales[key] = registry.scale_for(broker, day, rating)
        scale = scales[key]
        part = scale.stock if scale is not None else None
        if part is not None and rating and part.band(rating) is None:
            part = None
        if part is None and fallback_scale is not None and rating and fallback_scale.band(rating) is not None:
            part = fallback_scale
        level, low, high, horizon, benchmark, promised, scale_type = math.nan, math.nan, math.nan, "", "", "", ""
        if part is not None and kind == "rating" and rating:
            band = part.band(rating)
            level = part.level(rating)
            low = math.nan if band.low is None else band.low
            high = math.nan if band.high is None else band.high
            horizon = part.horizon_months or ""
            benchmark = part.benchmark_for(sym.market.value) or ""
            promised = part.promised_for(sym.market.value) if part is not fallback_scale else ""
            scale_type = part.scale_type if part is not fallback_scale else ""
        elif kind == "rating" and rating:
            missing_scale[f"{broker} ({rating})"] += 1
        if part is not None and not horizon:
            horizon = part.horizon_months or ""
        for col in ("band_low", "band_high"):
            if _text(rec.get(col)):
                value = _float(rec.get(col))
                if col == "band_low":
                    low = value
                else:
                    high = value
        horizon = _text(rec.get("horizon_months")) or horizon
        benchmark = _text(rec.get("benchmark")) or benchmark or (default_benchmark(sym) if scale_type != "coverage"
                                                                 and scale_type != "absolute" else "")
        scale_source = ""
        if part is not None and part is not fallback_scale and scale is not None:
            scale_source = f"registry:{scale.source}"
        rows.append({
            "signal_id": make_signal_id(broker, sym.code, day, kind),
            "source": source,
            "broker": broker,
            "report_date": report_date,
            "date_inferred": False,
            "report_type": _text(rec.get("report_type")),
            "industry": _text(rec.get("industry")),
            "industry_rating": _text(rec.get("industry_rating")),
            "code": sym.code,
            "name": _text(rec.get("name")),
            "market": sym.market.value,
            "kind": kind,
            "rating": rating,
            "rating_level": level,
            "action": action,
            "target_price": _float(rec.get("target_price")),
            "price_at_report": _float(rec.get("price_at_report")),
            "price_date": _timestamp(_text(rec.get("price_date"))),
            "currency": _text(rec.get("currency")) or sym.currency,
            "horizon_months": horizon,
            "benchmark": benchmark,
            "band_low": low,
            "band_high": high,
            "analysts": _text(rec.get("analysts")).replace(",", ";").replace("，", ";"),
            "previous_rating": normalize_rating(_text(rec.get("previous_rating")))[0],
            "risk_suffix": risk_suffix,
            "benchmark_promised": promised,
            "scale_type": scale_type,
            "scale_source": scale_source,
            "confidence": 1.0,
        })
    if missing_scale:
        shown = ", ".join(f"{k} ×{n}" for k, n in sorted(missing_scale.items(), key=lambda kv: -kv[1]))
        messages.append(Message("warning", f"{source}: no registry scale for {shown}: bands and rating levels left "
                                            "empty (add configs/ratings/<broker>.yaml)"))
    if unknown_words:
        shown = ", ".join(f"{w} ×{n}" for w, n in unknown_words.most_common())
        messages.append(Message("warning", f"{source}: rating words outside the known vocabulary: {shown}"))
    repeats = len(rows) - len({r["signal_id"] for r in rows})
    if repeats:
        messages.append(Message("warning", f"{source}: {repeats} row(s) repeat the broker, code, date and kind of "
                                            "an earlier row: each such rating is kept once by de-duplication"))
    if dropped:
        shown = ", ".join(f"{reason}: {n}" for reason, n in dropped.most_common())
        messages.append(Message("warning", f"{source}: {sum(dropped.values())} row(s) dropped ({shown})"))
    frame = coerce_signals(pd.DataFrame([complete_row(r) for r in rows], columns=SIGNAL_COLUMNS)) if rows else empty_signals()
    return fill_broker_group(frame, registry), messages


def signals_from_ratings_csv(path: str | Path, registry: ScaleRegistry,
                             column_map: dict[str, str] | None = None) -> tuple[pd.DataFrame, list[Message]]:
    """Read a ratings CSV (module docstring). Raises ``ValueError`` naming the file and the missing columns."""
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if set(REQUIRED_SIGNAL_COLUMNS) <= set(frame.columns):
        return coerce_signals(frame), []
    try:
        rename, notes = map_columns(frame.columns, column_map)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    frame = frame[list(rename)].rename(columns=rename)
    missing = [c for c in RATINGS_CSV_REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: ratings CSV is missing required column(s) {', '.join(missing)} "
                         f"(required: {', '.join(RATINGS_CSV_REQUIRED)}; other names accepted: "
                         + "; ".join(f"{c}: {'/'.join(COLUMN_SYNONYMS[c][1:4])}" for c in missing)
                         + "; or map one with --map COLUMN=NAME)")
    records = frame.to_dict("records")
    for line_no, rec in enumerate(records, start=2):
        rec["_where"] = f"{path}:{line_no}"
    out, messages = signals_from_records(records, registry, str(path))
    return out, [Message("info", f"{path}: {n}") for n in notes] + messages


def signals_from_research_report_em(frame: pd.DataFrame, registry: ScaleRegistry,
                                    source: str = "akshare:stock_research_report_em"
                                    ) -> tuple[pd.DataFrame, list[Message]]:
    """Convert ``ak.stock_research_report_em(symbol)`` output (one row per report).

    Columns used: 股票代码, 股票简称, 东财评级 (East Money's normalised rating), 机构, 行业, 日期, 报告名称.
    The yearly forecast columns (``2025-盈利预测-收益`` …) are ignored. ``东财评级`` is judged by the broker's registry
    scale when the word is in it, else only ranked on :data:`EASTMONEY_SCALE` (no bands).
    """
    needed = ["股票代码", "东财评级", "机构", "日期"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {', '.join(missing)}; got {', '.join(map(str, frame.columns))}")
    records = []
    for i, row in enumerate(frame.to_dict("records")):
        records.append({
            "_where": f"{source} row {i}", "broker": row.get("机构"), "report_date": row.get("日期"),
            "code": str(row.get("股票代码", "")).zfill(6) if str(row.get("股票代码", "")).isdigit() else
            row.get("股票代码"),
            "rating": row.get("东财评级"), "name": row.get("股票简称"), "industry": row.get("行业"),
            "report_type": "company",
        })
    return signals_from_records(records, registry, source, fallback_scale=EASTMONEY_SCALE)


def signals_from_rank_forecast_cninfo(frame: pd.DataFrame, registry: ScaleRegistry,
                                      source: str = "akshare:stock_rank_forecast_cninfo"
                                      ) -> tuple[pd.DataFrame, list[Message]]:
    """Convert ``ak.stock_rank_forecast_cninfo(date)`` output (all ratings published on one day).

    Columns used: 证券代码, 证券简称, 发布日期, 研究机构简称, 研究员名称, 投资评级, 是否首次评级, 评级变化,
    目标价格-下限, 目标价格-上限. Action: 是否首次评级 = 是 → initiate, else 评级变化 (维持/调高/调低/首次).
    Target price: the midpoint of the range when both ends are given, else the one given.
    """
    needed = ["证券代码", "发布日期", "研究机构简称", "投资评级"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {', '.join(missing)}; got {', '.join(map(str, frame.columns))}")
    records = []
    for i, row in enumerate(frame.to_dict("records")):
        first = _text(row.get("是否首次评级"))
        change = _text(row.get("评级变化"))
        action = "initiate" if first in ("是", "Y", "1", "首次") else _ACTION_MAP.get(change, "")
        lo, hi = _float(row.get("目标价格-下限")), _float(row.get("目标价格-上限"))
        target = (lo + hi) / 2 if not math.isnan(lo) and not math.isnan(hi) else (hi if math.isnan(lo) else lo)
        records.append({
            "_where": f"{source} row {i}", "broker": row.get("研究机构简称"), "report_date": row.get("发布日期"),
            "code": row.get("证券代码"), "rating": row.get("投资评级"), "name": row.get("证券简称"),
            "action": action, "target_price": target, "analysts": row.get("研究员名称"), "report_type": "company",
        })
    return signals_from_records(records, registry, source)


def fetch_research_report_em(symbol: str, registry: ScaleRegistry,
                             fetch: Callable[[str], pd.DataFrame] | None = None) -> tuple[pd.DataFrame, list[Message]]:
    """Call ``akshare.stock_research_report_em(symbol)`` (or ``fetch``) and convert it."""
    if fetch is None:
        import akshare as ak
        fetch = ak.stock_research_report_em
    return signals_from_research_report_em(fetch(symbol), registry)


def fetch_rank_forecast_cninfo(date: str, registry: ScaleRegistry,
                               fetch: Callable[[str], pd.DataFrame] | None = None) -> tuple[pd.DataFrame, list[Message]]:
    """Call ``akshare.stock_rank_forecast_cninfo(date="YYYYMMDD")`` (or ``fetch``) and convert it."""
    if fetch is None:
        import akshare as ak
        fetch = ak.stock_rank_forecast_cninfo
    return signals_from_rank_forecast_cninfo(fetch(date), registry)
