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

A file that already has every signals column (a previous ``ratingbt ingest -o x.csv``) is read as is.
Bad rows are skipped with a message naming the file, line and field; the other rows are kept.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from engine.signals.extract import Message, make_signal_id
from engine.signals.scales import ScalePart, ScaleRegistry
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
]

RATINGS_CSV_REQUIRED = ["broker", "report_date", "code", "rating"]
_ACTION_MAP = {
    "initiate": "initiate", "reiterate": "reiterate", "upgrade": "upgrade", "downgrade": "downgrade",
    "首次": "initiate", "首次覆盖": "initiate", "维持": "reiterate", "上调": "upgrade", "调高": "upgrade",
    "下调": "downgrade", "调低": "downgrade", "": "",
}
#: 东方财富's normalised rating (东财评级) is its own 5-tier vocabulary, not the broker's scale: levels only, no bands.
EASTMONEY_SCALE = ScalePart(horizon_months=None, benchmarks={}, bands=[
    {"rating": "买入"}, {"rating": "增持"}, {"rating": "中性"}, {"rating": "减持"}, {"rating": "卖出"}])


def is_ratings_csv(path: str | Path) -> bool:
    """True when ``path`` is a CSV whose header has the required ratings columns (or all signals columns)."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return False
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    except Exception:
        return False
    return set(RATINGS_CSV_REQUIRED) <= set(header)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


@functools.lru_cache(maxsize=65536)
def _date(text: str) -> pd.Timestamp:
    """``pd.to_datetime(text)`` (NaT for empty or unreadable text), memoised: a file repeats few distinct dates."""
    return pd.to_datetime(text or None, errors="coerce")


def _float(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def signals_from_records(records: list[dict], registry: ScaleRegistry, source: str,
                         fallback_scale: ScalePart | None = None) -> tuple[pd.DataFrame, list[Message]]:
    """Records (dicts with the ratings-CSV columns, plus ``_where`` for messages) → signals rows.

    Scale fields come from the broker's registry scale when the rating is in it, else from ``fallback_scale``
    (levels only), else stay empty with a message.
    """
    messages: list[Message] = []
    rows = []
    missing_scale: set[str] = set()
    for rec in records:
        where = rec.get("_where", source)
        try:
            sym = parse_symbol(_text(rec.get("code")))
        except SymbolError as exc:
            messages.append(Message("warning", f"{where}: field code: {exc}; row skipped"))
            continue
        report_date = _date(_text(rec.get("report_date")))
        if pd.isna(report_date):
            messages.append(Message("warning", f"{where}: field report_date: {rec.get('report_date')!r} is not a "
                                               "date (YYYY-MM-DD); row skipped"))
            continue
        broker_raw = _text(rec.get("broker"))
        broker = registry.canonical(broker_raw) or broker_raw
        kind = _text(rec.get("kind")) or "rating"
        if kind not in ("rating", "mention"):
            messages.append(Message("warning", f"{where}: field kind: {kind!r} not one of rating, mention; "
                                               "row skipped"))
            continue
        rating = _text(rec.get("rating"))
        action_raw = _text(rec.get("action"))
        action = _ACTION_MAP.get(action_raw)
        if action is None:
            messages.append(Message("warning", f"{where}: field action: {action_raw!r} not one of initiate, "
                                               "reiterate, upgrade, downgrade (or 首次/维持/上调/下调); left empty"))
            action = ""
        scale = registry.get(broker)
        part = scale.stock if scale is not None else None
        if part is not None and rating and part.band(rating) is None:
            part = None
        if part is None and fallback_scale is not None and rating and fallback_scale.band(rating) is not None:
            part = fallback_scale
        level, low, high, horizon, benchmark = math.nan, math.nan, math.nan, "", ""
        if part is not None and kind == "rating" and rating:
            band = part.band(rating)
            level = part.level(rating)
            low = math.nan if band.low is None else band.low
            high = math.nan if band.high is None else band.high
            horizon = part.horizon_months or ""
            benchmark = part.benchmark_for(sym.market.value) or ""
        elif kind == "rating" and rating:
            missing_scale.add(f"{broker} ({rating})")
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
        benchmark = _text(rec.get("benchmark")) or benchmark or default_benchmark(sym)
        day = report_date.date()
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
            "price_date": _date(_text(rec.get("price_date"))),
            "currency": _text(rec.get("currency")) or sym.currency,
            "horizon_months": horizon,
            "benchmark": benchmark,
            "band_low": low,
            "band_high": high,
            "analysts": _text(rec.get("analysts")).replace(",", ";").replace("，", ";"),
            "broker_group": broker,
            "previous_rating": _text(rec.get("previous_rating")),
            "confidence": 1.0,
        })
    if missing_scale:
        messages.append(Message("warning", f"{source}: no registry scale for {', '.join(sorted(missing_scale))}: "
                                            "bands and rating levels left empty (add configs/ratings/<broker>.yaml)"))
    frame = coerce_signals(pd.DataFrame([complete_row(r) for r in rows], columns=SIGNAL_COLUMNS)) if rows else empty_signals()
    return frame, messages


def signals_from_ratings_csv(path: str | Path, registry: ScaleRegistry) -> tuple[pd.DataFrame, list[Message]]:
    """Read a ratings CSV (module docstring). Raises ``ValueError`` naming missing required columns."""
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if set(REQUIRED_SIGNAL_COLUMNS) <= set(frame.columns):
        return coerce_signals(frame), []
    missing = [c for c in RATINGS_CSV_REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: ratings CSV is missing required column(s) {', '.join(missing)} "
                         f"(required: {', '.join(RATINGS_CSV_REQUIRED)})")
    records = []
    for line_no, rec in enumerate(frame.to_dict("records"), start=2):
        rec["_where"] = f"{path}:{line_no}"
        records.append(rec)
    return signals_from_records(records, registry, str(path))


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
