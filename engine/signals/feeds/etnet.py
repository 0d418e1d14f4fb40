"""ETNet (经济通) broker ratings of a Hong Kong stock: ``akshare.stock_hk_profit_forecast_et(symbol, "盈利预测概览")``.

Columns as akshare returns them (``akshare/stock_fundamental/stock_profit_forecast_hk_etnet.py``, indicator
盈利预测概览): 财政年度, 纯利/亏损, 每股盈利, 每股派息, 证券商, 评级, 目标价, 更新日期 — one row per broker and fiscal
year, a *snapshot* of each broker's latest view (``更新日期`` = the date of that view; 目标价 in HKD). One rating per
(broker, 更新日期) is kept (the fiscal-year rows repeat it). Keys are 5-digit HK codes (``00700``).
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from engine.signals.feeds.base import CallFeed, require_columns
from engine.signals.feeds.common import number, records_to_signals

__all__ = ["EtnetFeed", "ETNET_COLUMNS"]

ETNET_COLUMNS = ["财政年度", "纯利/亏损", "每股盈利", "每股派息", "证券商", "评级", "目标价", "更新日期"]
_NEEDED = ["证券商", "评级", "目标价", "更新日期"]


def _akshare(symbol: str) -> pd.DataFrame:
    import akshare as ak

    return ak.stock_hk_profit_forecast_et(symbol=symbol, indicator="盈利预测概览")


class EtnetFeed(CallFeed):
    """Feed over HK codes; ``fetch_symbol`` injectable for tests."""

    name = "etnet"
    default_call = staticmethod(_akshare)

    def __init__(self, fetch_symbol: Callable[[str], pd.DataFrame] | None = None, registry=None):
        super().__init__(fetch_symbol, registry)

    def convert(self, raw: pd.DataFrame, key: str) -> pd.DataFrame:
        require_columns(raw, _NEEDED, f"etnet {key}")
        code = f"{int(key):05d}.HK" if key.isdigit() else key
        rows = raw.assign(_day=raw["更新日期"].astype(str).str[:10]).drop_duplicates(["证券商", "_day"], keep="last")
        records = []
        for r in rows.to_dict("records"):
            target = number(r.get("目标价"))
            records.append({
                "broker": r.get("证券商"), "report_date": r["_day"], "code": code, "rating": r.get("评级"),
                "report_type": "company", "currency": "HKD", "target_price": target if target > 0 else float("nan"),
            })
        frame, messages = records_to_signals(records, "akshare:stock_hk_profit_forecast_et", self._registry)
        self.messages += messages
        return frame
