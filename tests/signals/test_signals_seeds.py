"""Golden tests: the five seed reports → signals, with every expected value read from the reports by hand.

Dates: 000/001/003 print their publication date near the top. 002 prints none; its prices are "2025年5月6日收盘价"
(a Tuesday, the first session after the May Day holiday), so it is inferred as the next session, 2025-05-07.
004 (a weekly for 2024-02-19..23) prints no date either; its table quotes "2024/2/23 股价" (Friday) and its latest
news item is an announcement dated Saturday 2024-02-24, so it cannot have been published before that weekend: the
publication date is the next session, Monday 2024-02-26 (date_inferred=True).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from engine.signals.extract import extract_report
from engine.signals.ingest import ingest_paths
from engine.signals.scales import load_registry
from engine.signals.security_master import load_security_master
from engine.signals.text import read_report_text

SEEDS = {
    "000": "000_e5cb0996b34ba0c2.txt",
    "001": "001_2e74b65c1e5033dd.txt",
    "002": "002_afcc2f971216b251.txt",
    "003": "003_418530ebf03d7eca.txt",
    "004": "004_4561dfffde3191be.txt",
}


@pytest.fixture(scope="module")
def seeds(shared):
    registry, master = load_registry(), load_security_master()
    out = {}
    for key, name in SEEDS.items():
        path = shared / "seeds" / name
        out[key] = extract_report(read_report_text(path), str(path), registry, master)
    return out


@pytest.fixture(scope="module")
def table(shared):
    return ingest_paths([shared / "seeds"]).signals


def _rows(rep) -> pd.DataFrame:
    return pd.DataFrame(rep.rows).set_index("code", drop=False)


def _band(rep, rating):
    band = rep.scale.stock.band(rating)
    return band.low, band.high


def test_000_minsheng_comment_on_jingjiawei(seeds):
    rep = seeds["000"]
    assert rep.broker == "民生证券"
    assert str(rep.report_date) == "2024-03-01" and not rep.date_inferred   # not the 相关研究 dates 2024/02/25 …
    assert rep.report_type == "industry" and rep.industry_rating == "推荐"
    assert rep.analysts == ["方竞"]
    rows = _rows(rep)
    assert list(rows.index) == ["300474.SZ"]
    row = rows.loc["300474.SZ"]
    assert row["name"] == "景嘉微" and row["kind"] == "mention" and row["rating"] == ""
    assert row["price_at_report"] == 63.0 and str(row["price_date"]) == "2024-02-29" and row["currency"] == "CNY"
    assert row["horizon_months"] == "12" and row["benchmark"] == "000300.SH"
    assert math.isnan(row["rating_level"]) and math.isnan(row["band_low"])     # a mention promises nothing
    # 民生证券's own 12-month scale, read from its 评级说明
    stock = rep.scale.stock
    assert stock.horizon_months == "12" and stock.ratings() == ["推荐", "谨慎推荐", "中性", "回避"]
    assert _band(rep, "推荐") == (0.15, None) and _band(rep, "谨慎推荐") == (0.05, 0.15)
    assert _band(rep, "中性") == (-0.05, 0.05) and _band(rep, "回避") == (None, -0.05)
    assert [rep.scale.industry.band(r).low for r in ("推荐", "中性", "回避")] == [0.05, -0.05, None]
    assert rep.messages == []


SEED_001_MENTIONS = {
    "恒玄科技": "688608.SH", "思特威": "688213.SH", "博士眼镜": "300622.SZ", "东山精密": "002384.SZ",
    "鹏鼎控股": "002938.SZ", "世运电路": "603920.SH", "新易盛": "300502.SZ", "中际旭创": "300308.SZ",
    "天孚通信": "300394.SZ", "信维通信": "300136.SZ",
}


def test_001_shanghai_weekly_ten_named_mentions(seeds):
    rep = seeds["001"]
    assert rep.broker == "上海证券"
    assert str(rep.report_date) == "2025-01-03" and not rep.date_inferred   # not 相关报告's 2024-12-30
    assert rep.report_type == "weekly" and rep.industry == "电子" and rep.industry_rating == "增持"
    assert rep.analysts == ["王红兵"]
    rows = _rows(rep)
    assert dict(zip(rows["name"], rows["code"])) == SEED_001_MENTIONS
    assert set(rows["kind"]) == {"mention"} and rows["price_at_report"].isna().all()
    # the 科技重点公司对比 comparables table (润欣科技, 乐鑫科技, 韦尔股份 …) gives no signals
    assert not {"润欣科技", "乐鑫科技", "韦尔股份", "立讯精密"} & set(rows["name"])
    assert set(rows["horizon_months"]) == {"6"}
    assert rep.scale.stock.horizon_months == "6" and rep.scale.industry.horizon_months == "12"
    assert _band(rep, "买入") == (0.20, None) and _band(rep, "增持") == (0.05, 0.20)
    assert rep.scale.industry.band("增持").low == 0.0          # "优于同期基准指数": better than, no number
    assert rep.messages == []


SEED_002_RATED = {
    "688981.SH": ("中芯国际", 89.90, ""), "688041.SH": ("海光信息", 150.01, ""), "688521.SH": ("芯原股份", 91.79, ""),
    "603063.SH": ("禾望电气", 31.90, "reiterate"), "301018.SZ": ("申菱环境", 40.60, "initiate"),
    "301397.SZ": ("溯联股份", 36.95, "initiate"), "688048.SH": ("长光华芯", 60.54, "initiate"),
}


def test_002_minsheng_deep_dive_table_of_ratings(seeds):
    rep = seeds["002"]
    assert rep.broker == "民生证券" and rep.industry_rating == "推荐" and rep.report_type == "industry"
    assert str(rep.report_date) == "2025-05-07" and rep.date_inferred
    assert rep.analysts == ["方竞", "邓永康", "宋晓东", "李萌"]             # 研究助理 李伯语 is not an analyst
    rows = _rows(rep)
    rated = rows[rows["kind"] == "rating"]
    assert set(rated.index) == set(SEED_002_RATED)
    for code, (name, price, action) in SEED_002_RATED.items():
        row = rated.loc[code]
        assert (row["name"], row["price_at_report"], row["action"]) == (name, price, action), code
        assert row["rating"] == "推荐" and row["rating_level"] == 2.0
        assert row["band_low"] == 0.15 and math.isnan(row["band_high"])
        assert str(row["price_date"]) == "2025-05-06" and row["currency"] == "CNY"
        assert row["horizon_months"] == "12" and row["benchmark"] == "000300.SH"
    unrated = rows.loc["688343.SH"]
    assert unrated["name"] == "云天励飞" and unrated["kind"] == "mention" and unrated["rating"] == ""
    assert unrated["price_at_report"] == 56.81 and math.isnan(unrated["rating_level"])
    # the longer 建议关注 lists: named only, resolved through the names file; unlisted / unknown names kept
    assert rows.loc["688256.SH", "name"] == "寒武纪" and rows.loc["00992.HK", "benchmark"] == "HSI"
    watch = rows[(rows["kind"] == "mention") & (rows["code"] != "688343.SH")]
    assert sorted(watch["name"]) == sorted([
        "寒武纪", "翱捷科技", "沐曦技术", "华勤技术", "联想集团", "浪潮技术", "弘信电子", "麦格米特", "中恒电气", "泰嘉股份",
        "科泰电源", "潍柴重机", "科华数据", "欧陆通", "奥海科技", "英维克", "川环科技", "德明利", "杰华特", "华海诚科",
        "华丰科技", "兴森科技"])                     # the 建议关注 list minus the stocks the table rates
    unresolved = rows[rows["code"] == ""]
    assert sorted(unresolved["name"]) == ["沐曦技术", "浪潮技术"]
    assert any("沐曦技术 (marked 未上市" in m.text and m.level == "warning" for m in rep.messages)


def test_003_pingan_hk_initiation(seeds):
    rep = seeds["003"]
    assert rep.broker == "平安证券(香港)" and rep.report_type == "company"
    assert str(rep.report_date) == "2026-06-03" and not rep.date_inferred
    assert rep.analysts == ["余浩樑"] and rep.industry_rating == ""
    assert len(rep.rows) == 1                    # comparables (寒武纪 688256 SH …) and the code appendix ignored
    row = rep.rows[0]
    assert row["code"] == "06082.HK" and row["market"] == "HK" and row["name"] == "璧仞科技"
    assert row["rating"] == "强烈推荐" and row["rating_level"] == 2.0 and row["action"] == "initiate"
    assert row["target_price"] == 78.63 and row["price_at_report"] == 61.65 and row["currency"] == "HKD"
    assert str(row["price_date"]) == "2026-06-02"                 # "数据更新至 2026 年 6 月 2 日"
    assert row["horizon_months"] == "12" and row["benchmark"] == "HSI"
    assert row["band_low"] == 0.20 and math.isnan(row["band_high"])
    assert _band(rep, "推荐") == (0.10, 0.20) and _band(rep, "中性") == (-0.10, 0.10)
    assert rep.scale.industry.ratings() == ["强于大市", "中性", "弱于大市"]


SEED_004_MENTIONS = {
    "300624.SZ": ("万兴科技", 102.84), "300781.SZ": ("因赛集团", None), "301391.SZ": ("卡莱特", 111.75),
    "300002.SZ": ("神州泰岳", 10.82), "300688.SZ": ("创业黑马", 25.09), "000034.SZ": ("神州数码", 27.60),
    "000063.SZ": ("中兴通讯", 25.32), "000977.SZ": ("浪潮信息", 34.29), "688041.SH": ("海光信息", 82.83),
    "603019.SH": ("中科曙光", 39.14),
}


def test_004_hualong_weekly_mentions_with_codes(seeds):
    rep = seeds["004"]
    assert rep.broker == "华龙证券" and rep.report_type == "weekly"
    assert rep.industry == "计算机" and rep.industry_rating == "推荐"
    assert str(rep.report_date) == "2024-02-26" and rep.date_inferred      # see module docstring
    assert rep.analysts == ["孙伯文"]
    rows = _rows(rep)
    assert set(rows.index) == set(SEED_004_MENTIONS) and set(rows["kind"]) == {"mention"}
    for code, (name, price) in SEED_004_MENTIONS.items():
        assert rows.loc[code, "name"] == name
        if price is None:
            assert math.isnan(rows.loc[code, "price_at_report"])
        else:
            assert rows.loc[code, "price_at_report"] == price and str(rows.loc[code, "price_date"]) == "2024-02-23"
    # market review (维海德 301318 … top gainers/losers) is not a recommendation
    assert not {"301318.SZ", "300209.SZ", "688039.SH", "688500.SH"} & set(rows.index)
    stock = rep.scale.stock
    assert stock.horizon_months == "6-12" and stock.ratings() == ["买入", "增持", "中性", "减持", "卖出"]
    assert [(b.low, b.high) for b in stock.bands] == [(0.10, None), (0.05, 0.10), (-0.05, 0.05), (-0.10, -0.05),
                                                      (None, -0.10)]
    assert [stock.level(r) for r in stock.ratings()] == [2, 1, 0, -1, -2]
    assert set(rows["horizon_months"]) == {"6-12"}


def test_seed_table_is_deduplicated_and_typed(table):
    assert len(table) == 1 + 10 + 30 + 1 + 10     # 002: 7 rated, 688343 unrated, 22 named in 建议关注
    assert not table.duplicated(["broker", "code", "report_date"]).loc[table["code"] != ""].any()
    assert table["signal_id"].is_unique
    assert table["report_date"].dtype == "datetime64[ns]"
    ratings = table[table["kind"] == "rating"]
    assert len(ratings) == 8 and ratings["rating_level"].notna().all()
