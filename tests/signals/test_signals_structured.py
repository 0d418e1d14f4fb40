"""Structured sources: the ratings CSV and fakes of akshare's rating endpoints (column formats as in akshare 1.19)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from engine.signals.ingest import ingest_paths
from engine.signals.scales import load_registry
from engine.signals.structured import (
    fetch_rank_forecast_cninfo,
    fetch_research_report_em,
    signals_from_ratings_csv,
)


def test_ratings_csv(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(
        "broker,report_date,code,rating,name,action,target_price,price_at_report,price_date\n"
        "民生证券研究院,2025-05-07,688981,推荐,中芯国际,维持,,89.90,2025-05-06\n"
        "平安证券（香港）,2026-06-03,6082.HK,强烈推荐,壁仞科技,initiate,78.63,61.65,2026-06-02\n"
        "华龙证券,2024-02-26,300624.SZ,增持,万兴科技,,,,\n"
        "华龙证券,not-a-date,300624.SZ,增持,万兴科技,,,,\n"
        "华龙证券,2024-02-26,ABC,增持,?,,,,\n"
        "某证券,2024-02-26,000001,买入,平安银行,,,,\n", encoding="utf-8")
    df, messages = signals_from_ratings_csv(path, load_registry())
    assert list(df["code"]) == ["688981.SH", "06082.HK", "300624.SZ", "000001.SZ"]
    smic = df.iloc[0]
    assert smic["broker"] == "民生证券" and smic["rating_level"] == 2 and smic["band_low"] == 0.15
    assert smic["action"] == "reiterate" and smic["horizon_months"] == "12" and smic["benchmark"] == "000300.SH"
    biren = df.iloc[1]
    assert biren["broker"] == "平安证券(香港)" and biren["benchmark"] == "HSI" and biren["currency"] == "HKD"
    assert biren["target_price"] == 78.63 and biren["band_low"] == 0.20 and math.isnan(biren["band_high"])
    hl = df.iloc[2]
    assert (hl["rating_level"], hl["band_low"], hl["band_high"], hl["horizon_months"]) == (1, 0.05, 0.10, "6-12")
    text = " | ".join(m.text for m in messages)
    assert f"{path}:5: field report_date: 'not-a-date' is not a date" in text
    assert f"{path}:6: field code:" in text
    assert "no registry scale for 某证券 (买入)" in text
    assert math.isnan(df.iloc[3]["rating_level"])


def test_ratings_csv_missing_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("broker,code,rating\nX,000001,买入\n", encoding="utf-8")
    result = ingest_paths([path])
    assert not result.files[0].readable
    assert "CSV without the ratings columns" in result.files[0].messages[0].text


def test_signals_csv_round_trip(tmp_path, make_text):
    (tmp_path / "r.txt").write_text(make_text(), encoding="utf-8")
    first = ingest_paths([tmp_path / "r.txt"]).signals
    out = tmp_path / "signals.csv"
    from engine.commands.ingest import write_signals
    write_signals(first, out)
    again = ingest_paths([out]).signals
    pd.testing.assert_frame_equal(first.drop(columns="source"), again.drop(columns="source"))


def fake_research_report_em(symbol: str) -> pd.DataFrame:
    """Shape of ak.stock_research_report_em(symbol): yearly forecast columns named after the current year."""
    return pd.DataFrame({
        "序号": [1, 2, 3],
        "股票代码": [symbol, symbol, symbol],
        "股票简称": ["景嘉微"] * 3,
        "报告名称": ["国产GPU领先", "业绩点评", "首次覆盖"],
        "东财评级": ["买入", "增持", "买入"],
        "机构": ["上海证券", "民生证券", "东海西证券"],
        "近一月个股研报数": [3, 3, 3],
        "2026-盈利预测-收益": [0.5, 0.6, 0.7],
        "2026-盈利预测-市盈率": [100.0, 90.0, 80.0],
        "2027-盈利预测-收益": [0.8, 0.9, 1.0],
        "2027-盈利预测-市盈率": [70.0, 60.0, 50.0],
        "2028-盈利预测-收益": [1.1, 1.2, 1.3],
        "2028-盈利预测-市盈率": [40.0, 35.0, 30.0],
        "行业": ["半导体"] * 3,
        "日期": [pd.Timestamp("2026-05-20").date(), pd.Timestamp("2026-04-01").date(),
                 pd.Timestamp("2026-03-01").date()],
        "报告PDF链接": ["https://pdf.dfcfw.com/x.pdf"] * 3,
    })


def test_research_report_em_fake():
    df, messages = fetch_research_report_em("300474", load_registry(), fetch=fake_research_report_em)
    assert list(df["code"]) == ["300474.SZ"] * 3 and list(df["broker"]) == ["上海证券", "民生证券", "东海西证券"]
    shanghai = df.iloc[0]     # 买入 is in 上海证券's own scale: its band applies
    assert shanghai["rating_level"] == 2 and shanghai["band_low"] == 0.20 and shanghai["horizon_months"] == "6"
    minsheng = df.iloc[1]     # 增持 is not a 民生 word: ranked on East Money's 5-tier scale, no band
    assert minsheng["rating_level"] == 1 and math.isnan(minsheng["band_low"])
    assert str(df.iloc[0]["report_date"].date()) == "2026-05-20" and df.iloc[0]["industry"] == "半导体"
    assert messages == []


def fake_rank_forecast_cninfo(date: str) -> pd.DataFrame:
    """Shape of ak.stock_rank_forecast_cninfo(date): one row per rating published that day."""
    return pd.DataFrame({
        "证券代码": ["300474", "688041", "000063"],
        "证券简称": ["景嘉微", "海光信息", "中兴通讯"],
        "发布日期": ["2024-02-26"] * 3,
        "研究机构简称": ["华龙证券", "民生证券", "华龙证券"],
        "研究员名称": ["孙伯文", "方竞,李萌", "孙伯文"],
        "投资评级": ["增持", "推荐", "买入"],
        "是否首次评级": ["否", "是", "否"],
        "评级变化": ["调高", "首次", "维持"],
        "前一次投资评级": ["中性", None, "买入"],
        "目标价格-下限": [60.0, float("nan"), 30.0],
        "目标价格-上限": [70.0, 95.0, float("nan")],
    })


def test_rank_forecast_cninfo_fake():
    df, messages = fetch_rank_forecast_cninfo("20240226", load_registry(), fetch=fake_rank_forecast_cninfo)
    assert list(df["action"]) == ["upgrade", "initiate", "reiterate"]
    assert list(df["target_price"]) == [65.0, 95.0, 30.0]          # midpoint of 60..70; the one end given
    assert df.iloc[1]["analysts"] == "方竞;李萌" and df.iloc[1]["band_low"] == 0.15
    assert df.iloc[0]["rating_level"] == 1 and df.iloc[0]["horizon_months"] == "6-12"
    assert messages == []


def test_endpoint_format_change_is_reported():
    with pytest.raises(ValueError, match="missing column"):
        fetch_rank_forecast_cninfo("20240226", load_registry(),
                                   fetch=lambda d: fake_rank_forecast_cninfo(d).drop(columns="投资评级"))
