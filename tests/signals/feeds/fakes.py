"""Fakes of the rating endpoints, in each function's real format (columns read from the installed akshare source:
``akshare/stock/stock_rank_forecast.py``, ``akshare/stock_feature/stock_research_report_em.py`` (raw JSON keys of
``reportapi.eastmoney.com/report/list`` before akshare renames them), ``akshare/stock_fundamental/stock_recommend.py``,
``akshare/stock_fundamental/stock_profit_forecast_hk_etnet.py``). Values are made up for the tests."""

from __future__ import annotations

import pandas as pd

from engine.signals.feeds.cninfo import CNINFO_COLUMNS
from engine.signals.feeds.etnet import ETNET_COLUMNS
from engine.signals.feeds.sina import SINA_COLUMNS


def cninfo_day(day: str) -> pd.DataFrame:
    """What ``ak.stock_rank_forecast_cninfo(date)`` returns for one day (targets numeric, the rest text)."""
    rows = [
        ["600519", "贵州茅台", day, "民生证券", "张三,李四", "推荐", "否", "维持", "推荐", 1900.0, 2100.0],
        ["300474", "景嘉微", day, "甲证券", "王五", "买入", "是", "首次", None, None, 95.5],
        ["000001", "平安银行", day, "乙证券", "赵六", "增持", "否", "调高", "中性", None, None],
    ]
    frame = pd.DataFrame(rows, columns=CNINFO_COLUMNS)
    frame["目标价格-上限"] = pd.to_numeric(frame["目标价格-上限"], errors="coerce")
    frame["目标价格-下限"] = pd.to_numeric(frame["目标价格-下限"], errors="coerce")
    return frame


def em_page(symbol: str, page: int, total: int = 2) -> dict:
    """One page of the raw JSON of ``reportapi.eastmoney.com/report/list`` (a subset of its keys, as returned)."""
    base = {"title": f"{symbol} 深度报告 {page}", "stockName": "贵州茅台", "stockCode": symbol, "orgCode": "80000031",
            "orgName": "民生证券股份有限公司", "orgSName": "民生证券", "infoCode": f"AP2025{page}", "column": "001",
            "indvInduCode": "1", "indvInduName": "酿酒行业", "emRatingCode": "1", "emRatingValue": "1",
            "emRatingName": "买入", "lastEmRatingName": "买入", "ratingChange": 3, "reportType": 1,
            "author": ["11000000.张三"], "researcher": "张三,李四", "indvAimPriceT": "2100", "indvAimPriceL": "1900",
            "sRatingName": "推荐", "sRatingCode": "2", "market": "SHANGHAI", "count": 12,
            "publishDate": f"2025-0{page}-10 00:00:00.000"}
    other = dict(base, orgSName="甲证券", sRatingName="", emRatingName="增持", researcher="王五", indvAimPriceT="",
                 indvAimPriceL="", publishDate=f"2025-0{page}-11 00:00:00.000")
    return {"hits": 2 * total, "size": 2, "data": [base, other], "currentYear": 2025, "pageNo": page,
            "TotalPage": total}


def sina_detail(symbol: str) -> pd.DataFrame:
    """What ``ak.stock_institute_recommend_detail(symbol)`` returns (the page's first 8 columns)."""
    return pd.DataFrame([
        [symbol, "贵州茅台", 2100.0, "推荐", "民生证券", "张三,李四", "酿酒行业", "2025-03-10"],
        [symbol, "贵州茅台", None, "买入", "甲证券", "王五", "酿酒行业", "2025-03-12"],
    ], columns=SINA_COLUMNS)


def etnet_overview(symbol: str) -> pd.DataFrame:
    """What ``ak.stock_hk_profit_forecast_et(symbol, "盈利预测概览")`` returns: one row per broker and fiscal year."""
    return pd.DataFrame([
        ["2025", 200000.0, 2100.0, 400.0, "平安证券(香港)", "买入", 520.0, pd.Timestamp("2025-03-20").date()],
        ["2026", 230000.0, 2400.0, 450.0, "平安证券(香港)", "买入", 520.0, pd.Timestamp("2025-03-20").date()],
        ["2025", 210000.0, 2150.0, 410.0, "丙证券", "持有", 460.0, pd.Timestamp("2025-02-05").date()],
    ], columns=ETNET_COLUMNS)
