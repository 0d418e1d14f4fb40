"""Eastmoney (东方财富) research-report list per stock, with the fields akshare drops.

``akshare.stock_research_report_em(symbol)`` reads ``https://reportapi.eastmoney.com/report/list`` page by page and
keeps only 序号, 股票代码, 股票简称, 报告名称, 东财评级, 机构, 近一月个股研报数, the forecast columns, 行业, 日期,
报告PDF链接 — it renames the analyst (``researcher``), the targets (``indvAimPriceT``, ``indvAimPriceL``) and the
broker's own rating word (``sRatingName``) to ``-`` and drops them. This feed calls the same URL with the same
parameters (:func:`fetch_pages`) and keeps them. Raw record keys used: ``stockCode, stockName, orgSName,
publishDate, title, indvInduName, emRatingName, sRatingName, researcher, indvAimPriceT, indvAimPriceL``.

Rating word: ``sRatingName`` (the broker's own) when given, else ``emRatingName`` (East Money's normalised 5-tier
word, judged by the broker's scale only when the word is in it). Targets: both ends when given (CNY), midpoint as
``target_price``. A frame already in akshare's format (``东财评级``, ``机构``, ``日期`` …) is accepted too (no analyst,
no target). Keys are 6-digit stock codes.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Callable

import pandas as pd

from engine.signals.feeds.base import FeedFormatError, require_columns
from engine.signals.feeds.common import number, records_to_signals, text

__all__ = ["EastmoneyFeed", "fetch_pages", "EM_URL", "EM_RAW_KEYS", "EM_AKSHARE_COLUMNS"]

EM_URL = "https://reportapi.eastmoney.com/report/list"
EM_RAW_KEYS = ["stockCode", "stockName", "orgSName", "publishDate", "title", "indvInduName", "emRatingName",
               "sRatingName", "researcher", "indvAimPriceT", "indvAimPriceL"]
EM_AKSHARE_COLUMNS = ["序号", "股票代码", "股票简称", "报告名称", "东财评级", "机构", "近一月个股研报数", "行业", "日期",
                      "报告PDF链接"]
_NEEDED_RAW = ["stockCode", "orgSName", "publishDate"]


def _params(symbol: str, page: int) -> dict:
    """The query akshare sends (``akshare/stock_feature/stock_research_report_em.py``)."""
    return {"industryCode": "*", "pageSize": "5000", "industry": "*", "rating": "*", "ratingChange": "*",
            "beginTime": "2000-01-01", "endTime": f"{dt.date.today().year + 1}-01-01", "pageNo": str(page),
            "fields": "", "qType": "0", "orgCode": "", "code": symbol, "rcode": "", "p": str(page),
            "pageNum": str(page), "pageNumber": str(page)}


def fetch_pages(symbol: str, get_page: Callable[[str, int], dict] | None = None, timeout: float = 30.0) -> list[dict]:
    """Every raw record of ``symbol`` (all pages). ``get_page(symbol, page) -> JSON dict`` defaults to HTTP GET."""
    if get_page is None:
        import requests

        def get_page(sym: str, page: int) -> dict:
            r = requests.get(EM_URL, params=_params(sym, page), timeout=timeout)
            r.raise_for_status()
            return r.json()

    first = get_page(symbol, 1)
    if "data" not in first or "TotalPage" not in first:
        raise FeedFormatError(f"eastmoney {symbol}: answer has no 'data'/'TotalPage' (keys: {', '.join(first)})")
    records = list(first.get("data") or [])
    for page in range(2, int(first.get("TotalPage") or 1) + 1):
        records += list(get_page(symbol, page).get("data") or [])
    return records


class EastmoneyFeed:
    """Feed over stock codes (see module docstring); ``get_page`` injectable for tests."""

    name = "eastmoney"

    def __init__(self, get_page: Callable[[str, int], dict] | None = None, registry=None):
        self._get_page = get_page
        self._registry = registry
        self.messages: list[str] = []

    def fetch(self, key: str) -> Any:
        return fetch_pages(key, self._get_page)

    def convert(self, raw: Any, key: str) -> pd.DataFrame:
        where = f"eastmoney {key}"
        if isinstance(raw, pd.DataFrame):  # akshare's own output
            require_columns(raw, ["股票代码", "东财评级", "机构", "日期"], where)
            records = [{"broker": r.get("机构"), "report_date": text(r.get("日期"))[:10],
                        "code": text(r.get("股票代码")).zfill(6), "name": r.get("股票简称"),
                        "rating": r.get("东财评级"), "industry": r.get("行业"), "report_type": "company",
                        "evidence": text(r.get("报告名称"))[:120]} for r in raw.to_dict("records")]
        else:
            raw = list(raw or [])
            if raw:
                require_columns(pd.DataFrame(raw[:1]), _NEEDED_RAW, where)
            records = []
            for r in raw:
                ends = [x for x in (number(r.get("indvAimPriceL")), number(r.get("indvAimPriceT"))) if x > 0]
                lo, hi = (min(ends), max(ends)) if ends else (math.nan, math.nan)
                records.append({
                    "broker": r.get("orgSName"), "report_date": text(r.get("publishDate"))[:10],
                    "code": text(r.get("stockCode")), "name": r.get("stockName"),
                    "rating": text(r.get("sRatingName")) or text(r.get("emRatingName")),
                    "industry": r.get("indvInduName"), "report_type": "company",
                    "analysts": text(r.get("researcher")).replace(",", ";").replace("，", ";"),
                    "target_price": (lo + hi) / 2, "target_low": lo, "target_high": hi,
                    "evidence": text(r.get("title"))[:120],
                })
        frame, messages = records_to_signals(records, "eastmoney:report/list", self._registry)
        self.messages += messages
        return frame
