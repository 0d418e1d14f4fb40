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
