"""CNINFO (巨潮资讯) daily rating list: ``akshare.stock_rank_forecast_cninfo(date="YYYYMMDD")``, one call per day.

Columns as akshare returns them (``akshare/stock/stock_rank_forecast.py``): 证券代码, 证券简称, 发布日期,
研究机构简称, 研究员名称, 投资评级, 是否首次评级, 评级变化, 前一次投资评级, 目标价格-下限, 目标价格-上限
(targets numeric, CNY). A day without ratings makes akshare raise ``ValueError: Length mismatch`` (it renames the
columns of an empty frame): that is an empty day here, not a failure.

Mapping: action = ``initiate`` when 是否首次评级 is 是, else from 评级变化 (维持 → reiterate, 调高/上调 → upgrade,
调低/下调 → downgrade, 首次 → initiate); ``previous_rating`` = 前一次投资评级; ``target_low`` / ``target_high`` = the
range (one end when only one is given) and ``target_price`` its midpoint; analysts ``;``-separated.
Keys are exchange sessions (XSHG) as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import math
from typing import Callable

import pandas as pd

from engine.signals.feeds.base import CallFeed, require_columns
from engine.signals.feeds.common import number, records_to_signals, text

__all__ = ["CninfoFeed", "CNINFO_COLUMNS", "session_keys"]

CNINFO_COLUMNS = ["证券代码", "证券简称", "发布日期", "研究机构简称", "研究员名称", "投资评级", "是否首次评级", "评级变化",
                  "前一次投资评级", "目标价格-下限", "目标价格-上限"]
_NEEDED = ["证券代码", "发布日期", "研究机构简称", "投资评级"]
_CHANGE = {"维持": "reiterate", "调高": "upgrade", "上调": "upgrade", "调低": "downgrade", "下调": "downgrade",
           "首次": "initiate"}


def session_keys(start: object, end: object) -> list[str]:
    """XSHG sessions from ``start`` to ``end`` (inclusive) as ``YYYY-MM-DD``."""
    from engine.data.calendars import sessions

    return [d.strftime("%Y-%m-%d") for d in sessions("XSHG", pd.Timestamp(start), pd.Timestamp(end))]


def _akshare_day(key: str) -> pd.DataFrame:
    import akshare as ak

    try:
        return ak.stock_rank_forecast_cninfo(date=key.replace("-", ""))
    except ValueError as exc:
        if "Length mismatch" in str(exc):  # no record that day: akshare cannot rename an empty frame
            return pd.DataFrame(columns=CNINFO_COLUMNS)
        raise


class CninfoFeed(CallFeed):
    """Feed of :mod:`engine.signals.feeds.base` over days; ``fetch_day(key)`` defaults to akshare."""

    name = "cninfo"
    default_call = staticmethod(_akshare_day)

    def __init__(self, fetch_day: Callable[[str], pd.DataFrame] | None = None, registry=None):
        super().__init__(fetch_day, registry)

    def convert(self, raw: pd.DataFrame, key: str) -> pd.DataFrame:
        where = f"cninfo {key}"
        if raw is None or (len(raw) == 0 and len(raw.columns) == 0):
            raw = pd.DataFrame(columns=CNINFO_COLUMNS)
        require_columns(raw, _NEEDED, where)
        records = []
        for row in raw.to_dict("records"):
            first = text(row.get("是否首次评级"))
            change = text(row.get("评级变化"))
            ends = [x for x in (number(row.get("目标价格-下限")), number(row.get("目标价格-上限"))) if x > 0]
            lo, hi = (min(ends), max(ends)) if ends else (math.nan, math.nan)
            records.append({
                "broker": row.get("研究机构简称"), "report_date": text(row.get("发布日期"))[:10] or key,
                "code": text(row.get("证券代码")), "name": row.get("证券简称"), "rating": row.get("投资评级"),
                "action": "initiate" if first in ("是", "Y", "1") else _CHANGE.get(change, ""),
                "previous_rating": row.get("前一次投资评级"), "target_price": (lo + hi) / 2,
                "target_low": lo, "target_high": hi, "currency": "CNY",
                "analysts": text(row.get("研究员名称")).replace(",", ";").replace("，", ";"),
                "report_type": "company",
            })
        frame, messages = records_to_signals(records, "akshare:stock_rank_forecast_cninfo", self._registry)
        self.messages += messages
        return frame
