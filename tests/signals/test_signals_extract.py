"""Extraction on a small synthetic report whose every value is known."""

from __future__ import annotations

import math

import pandas as pd

from engine.signals.extract import detect_broker, extract_report
from engine.signals.scales import load_registry
from engine.signals.security_master import load_security_master


def _extract(text):
    return extract_report(text, "mem", load_registry(), load_security_master())


def test_synthetic_report_fields(report_text):
    rep = _extract(report_text)
    assert rep.broker == "民生证券" and str(rep.report_date) == "2024-05-10" and not rep.date_inferred
    assert rep.industry_rating == "推荐" and rep.report_type == "industry" and rep.analysts == ["张三"]
    rows = pd.DataFrame(rep.rows).set_index("code")
    assert list(rows.index) == ["002371.SZ", "688012.SH", "688072.SH", "688037.SH"]
    assert rows.loc["002371.SZ", "rating"] == "推荐" and rows.loc["002371.SZ", "rating_level"] == 2
    assert rows.loc["688012.SH", "rating"] == "谨慎推荐" and rows.loc["688012.SH", "rating_level"] == 1
    assert (rows.loc["688012.SH", "band_low"], rows.loc["688012.SH", "band_high"]) == (0.05, 0.15)
    assert rows.loc["002371.SZ", "price_at_report"] == 300.50
    assert str(rows.loc["002371.SZ", "price_date"]) == "2024-05-09"
    assert rows.loc["688072.SH", "kind"] == "mention" and math.isnan(rows.loc["688072.SH", "price_at_report"])
    assert rep.messages == []


def test_missing_date_is_inferred_from_price_date(make_text):
    text = make_text().replace("2024年05月10日", "")
    rep = _extract(text)
    # 2024-05-09 is a Thursday: next session Friday 2024-05-10
    assert str(rep.report_date) == "2024-05-10" and rep.date_inferred
    assert all(r["date_inferred"] for r in rep.rows)


def test_inferred_date_skips_holiday(make_text):
    text = make_text().replace("2024年05月10日", "").replace("2024年5月9日", "2024年4月30日")
    rep = _extract(text)
    # 2024-04-30 (Tue) is followed by the May Day holiday 05-01..05-05 on XSHG: next session is Monday 05-06
    assert str(rep.report_date) == "2024-05-06"


def test_related_research_dates_are_not_the_publication_date(make_text):
    text = make_text().replace("2024年05月10日", "")
    rep = _extract(text.replace("收盘价", "价格"))     # no price date either
    assert rep.report_date is None
    assert any("no publication date" in m.text for m in rep.messages)


def test_rating_not_in_scale_warns(make_text):
    text = make_text().replace("688012.SH\t中微公司\t150.20\t2.00\t2.60\t75\t58\t谨慎推荐",
                                 "688012.SH\t中微公司\t150.20\t2.00\t2.60\t75\t58\t买入")
    rep = _extract(text)
    row = next(r for r in rep.rows if r["code"] == "688012.SH")
    assert row["rating"] == "买入" and math.isnan(row["rating_level"])
    assert any("'买入' is not in 民生证券's stock scale" in m.text for m in rep.messages)


def test_broker_detection_prefers_longest_alias_and_ignores_exchanges():
    registry = load_registry()
    assert detect_broker("平安证券（香港）研究部 … 平安证券(香港)", registry) == "平安证券(香港)"
    assert detect_broker("上海证券交易所公告 民生证券研究院 民生证券", registry) == "民生证券"
    assert detect_broker("某某证券股份有限公司 研究所", registry) == "某某证券"


def test_sector_lists_and_disclaimer_are_not_mentions(make_text):
    text = make_text() + "\n我们建议关注算力、多模态AI、传媒、游戏等行业。\n建议关注以下赛道：光模块。\n"
    text = text.replace("评级说明", "免责声明\n投资者应当自行建议关注相应的更新或修改。\n评级说明")
    rep = _extract(text)
    names = {r["name"] for r in rep.rows}
    assert not {"算力", "传媒", "游戏", "光模块", "相应的更新或修改"} & names


def test_next_session_uses_calendar_and_falls_back_to_weekdays():
    import datetime as dt

    from engine.signals.dates import next_session
    assert next_session(dt.date(2025, 5, 6)) == dt.date(2025, 5, 7)
    assert next_session(dt.date(2024, 9, 30)) == dt.date(2024, 10, 8)      # National Day holiday on XSHG
    assert next_session(dt.date(2024, 12, 24), "HK") == dt.date(2024, 12, 27)   # Christmas + Boxing Day on XHKG
    assert next_session(dt.date(2027, 3, 5)) == dt.date(2027, 3, 8)        # past XSHG's data: next weekday


def test_risk_grades_are_not_ratings(make_text):
    text = make_text().replace("推荐\n\n维持评级", "风险等级：中高风险\n\nR4\n\n推荐\n\n维持评级")
    text = text.replace("投资建议：", "科创板股票风险等级为R4，中高风险。投资建议：")
    rep = _extract(text)
    assert rep.industry_rating == "推荐"
    assert {r["rating"] for r in rep.rows} == {"推荐", "谨慎推荐", ""}


def test_a_share_company_report_with_current_price(make_text):
    head = ("公司深度研究\n\n北方华创（002371）\n\n2024年06月03日\n\n谨慎推荐\n\n首次评级\n\n当前价格：\n\n300.50元\n\n"
            "目标价格： 360.00 元\n\n分析师 王五\n\n")
    scale = make_text()[make_text().index("\n评级说明"):]
    rep = _extract(head + "公司订单饱满。（注：股价为 2024 年 5 月 31 日收盘价）\n\n民生证券股份有限公司\n" + scale)
    assert rep.report_type == "company" and str(rep.report_date) == "2024-06-03"
    assert len(rep.rows) == 1
    row = rep.rows[0]
    assert (row["code"], row["name"], row["rating"], row["rating_level"], row["action"]) == \
        ("002371.SZ", "北方华创", "谨慎推荐", 1.0, "initiate")
    assert (row["price_at_report"], row["target_price"], row["currency"]) == (300.50, 360.00, "CNY")
    assert str(row["price_date"]) == "2024-05-31" and (row["band_low"], row["band_high"]) == (0.05, 0.15)


def test_table_with_target_column_and_action_in_rating_cell():
    text = ("电子行业周报\n\n2025年03月07日\n\n增持（维持）\n\n表2：重点公司投资评级\n\n"
            "股票代码\t股票名称\t投资评级\t收盘价(元)\t目标价(元)\tEPS\t\tPE\n"
            "\t\t\t\t\t2025E\t2026E\t2025E\n"
            "300308.SZ\t中际旭创\t买入(维持)\t120.50\t150.00\t4.1\t5.2\t29\n"
            "01810.HK\t小米集团\t增持(首次)\t45.10\t-\t1.2\t1.6\t37\n\n"
            "资料来源：Wind（注：收盘价截至2025年3月6日）\n\n上海证券研究所\n")
    rep = _extract(text)
    rows = {r["code"]: r for r in rep.rows}
    assert set(rows) == {"300308.SZ", "01810.HK"}
    zj = rows["300308.SZ"]
    assert (zj["rating"], zj["action"], zj["price_at_report"], zj["target_price"]) == ("买入", "reiterate", 120.5, 150.0)
    xm = rows["01810.HK"]
    assert (xm["rating"], xm["action"], xm["currency"], xm["benchmark"]) == ("增持", "initiate", "HKD", "HSI")
    assert math.isnan(xm["target_price"]) and xm["band_low"] == 0.05     # 上海证券 registry: 增持 5..20 %
    assert str(zj["price_date"]) == "2025-03-06" and rep.report_type == "weekly"
    assert any("no 评级说明" in m.text for m in rep.messages)


def test_classify_report():
    from engine.signals.extract import classify_report
    assert classify_report("", "计算机行业周报", False, True, "推荐") == "weekly"
    assert classify_report("", "——先进科技主题周报 20241223-20241229", False, False, "增持") == "weekly"
    assert classify_report("", "2025年度投资策略：科技领航", False, False, "") == "strategy"
    assert classify_report("", "首次覆盖报告\n璧仞科技 (6082. HK)", True, False, "") == "company"
    assert classify_report("", "算力需求持续提升", False, True, "推荐") == "industry"
    assert classify_report("", "随笔", False, False, "") == ""
