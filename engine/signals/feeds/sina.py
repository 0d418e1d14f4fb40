"""Sina (新浪财经) rating history per stock: ``akshare.stock_institute_recommend_detail(symbol)``.

Columns as akshare returns them (``akshare/stock_fundamental/stock_recommend.py``: the first 8 columns of the page's
table, ``评级日期↓`` renamed ``评级日期``): 股票代码, 股票名称, 目标价, 最新评级, 评级机构, 分析师, 行业, 评级日期.
Target prices in CNY (``目标价``; empty or 0 = none); analysts comma-separated. Keys are 6-digit stock codes.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from engine.signals.feeds.base import CallFeed, require_columns
from engine.signals.feeds.common import number, records_to_signals, text

__all__ = ["SinaFeed", "SINA_COLUMNS"]

SINA_COLUMNS = ["股票代码", "股票名称", "目标价", "最新评级", "评级机构", "分析师", "行业", "评级日期"]
_NEEDED = ["股票代码", "最新评级", "评级机构", "评级日期"]


def _akshare(symbol: str) -> pd.DataFrame:
    import akshare as ak

    return ak.stock_institute_recommend_detail(symbol=symbol)


class SinaFeed(CallFeed):
    """Feed over stock codes; ``fetch_symbol`` injectable for tests."""

    name = "sina"
    default_call = staticmethod(_akshare)

    def __init__(self, fetch_symbol: Callable[[str], pd.DataFrame] | None = None, registry=None):
        super().__init__(fetch_symbol, registry)

    def convert(self, raw: pd.DataFrame, key: str) -> pd.DataFrame:
        require_columns(raw, _NEEDED, f"sina {key}")
        records = []
        for r in raw.to_dict("records"):
            target = number(r.get("目标价"))
            records.append({
                "broker": r.get("评级机构"), "report_date": text(r.get("评级日期"))[:10],
                "code": text(r.get("股票代码")).zfill(6), "name": r.get("股票名称"), "rating": r.get("最新评级"),
                "industry": r.get("行业"), "report_type": "company", "currency": "CNY",
                "analysts": text(r.get("分析师")).replace(",", ";").replace("，", ";"),
                "target_price": target if target > 0 else float("nan"),
            })
        frame, messages = records_to_signals(records, "akshare:stock_institute_recommend_detail", self._registry)
        self.messages += messages
        return frame
