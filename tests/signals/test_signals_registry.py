"""评级说明 parsing of real-shaped sections (stripped and with lines), the dated registry, lineage, coverage and
ratings files as users have them."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from engine.signals.brokers import fill_broker_group
from engine.signals.scale_propose import ratings_coverage
from engine.signals.scales import load_registry, parse_band_text, parse_scale_section
from engine.signals.structured import map_columns, normalize_rating, parse_column_map, signals_from_ratings_csv

# Written for these tests in the shape brokers print them (not copied from a report).
STRIPPED_TWO_PARTS = (
    "分析师声明本人具有证券投资咨询执业资格。投资评级说明以报告发布日后的6个月内公司股价（或行业指数）相对同期"
    "相关证券市场代表性指数的涨跌幅作为基准。其中：A股市场以沪深300指数为基准；香港市场以恒生指数为基准。"
    "股票评级买入：相对同期相关证券市场代表性指数涨幅20％以上；增持：相对同期相关证券市场代表性指数涨幅介于5％～20％之间；"
    "中性：相对同期相关证券市场代表性指数涨幅介于-5％～5％之间；减持：相对同期相关证券市场代表性指数跌幅5％以上。"
    "行业评级看好：行业指数领先沪深300指数；中性：行业指数跟随沪深300指数；看淡：行业指数落后沪深300指数。"
    "免责声明本报告仅供本公司客户使用。"
)
LINES_COLUMNS = """评级说明
公司评级标准：以报告发布日后的 6~12 个月内公司股价相对上证综指的涨跌幅为基准
优于大市\t预期个股相对基准指数涨幅在 10%以上
中性\t预期个股相对基准指数涨幅介于-10%与 10%之间
弱于大市\t预期个股相对基准指数涨幅低于-10%及以下
行业评级标准
优于大市\t行业整体回报高于基准指数整体水平 10%以上
"""
STRIPPED_COLUMN_LAYOUT = (
    "股票投资评级说明：以报告日后的6个月内，证券相对于市场基准指数的涨跌幅为标准，定义如下：买入(Buy)增持(Outperform)"
    "中性(Neutral)减持(Underperform)：相对强于市场表现20％以上；：相对强于市场表现5％～20％；：相对市场表现在－5％～＋5％"
    "之间波动；：相对弱于市场表现5％以下。我们采用的是相对评级体系。"
)
STRIPPED_ABSOLUTE = (
    "投资评级的说明：买入：预期未来6－12个月内上涨幅度在15%以上；增持：预期未来6－12个月内上涨幅度在5%－15%；"
    "中性：预期未来6－12个月内变动幅度在-5%－5%；减持：预期未来6－12个月内下跌幅度在5%以上。特别声明："
)
STRIPPED_COVERAGE = (
    "评级标准公司评级体系推荐：指未来6-12个月，公司股价超越分析师（或分析师团队）所覆盖股票平均回报20%及以上。"
    "谨慎推荐：指未来6-12个月，公司股价超越分析师（或分析师团队）所覆盖股票平均回报10%－20%。"
    "中性：指未来6-12个月，公司股价与分析师（或分析师团队）所覆盖股票平均回报相当。"
    "回避：指未来6-12个月，公司股价低于分析师（或分析师团队）所覆盖股票平均回报10%及以上。免责声明"
)


STRIPPED_QUOTED_INDUSTRY_INDEX = (
    "个股评级定义（相对于所属行业指数）：“买入”：未来12个月，预期个股表现超过同期其所属的行业指数“持有”：未来12个月，"
    "预期个股表现与同期所属的行业指数持平“卖出”：未来12个月，预期个股表现逊于同期其所属的行业指数行业评级定义（相对于"
    "MSCI中国指数）：“超配”：未来12个月优于MSCI中国10%或以上“标配”：未来12个月优于/劣于MSCI中国少于10%“低配”："
    "未来12个月劣于MSCI中国超过10%分析师证明本报告作者谨此声明"
)


def test_quoted_words_stock_vs_industry_index_and_msci_industry():
    scale = parse_scale_section(STRIPPED_QUOTED_INDUSTRY_INDEX)
    assert scale.stock.scale_type == "coverage" and scale.stock.benchmarks == {}
    assert scale.stock.benchmarks_promised == {"A": "行业指数"} and scale.stock.horizon_months == "12"
    assert [(b.rating, b.low, b.high) for b in scale.stock.bands] == [("买入", 0.0, None), ("持有", None, None),
                                                                      ("卖出", None, 0.0)]
    assert [(b.rating, b.low, b.high) for b in scale.industry.bands] == [("超配", 0.10, None), ("标配", -0.10, 0.10),
                                                                         ("低配", None, -0.10)]
    assert scale.industry.benchmarks == {"HK": "MSCI China"}


def _bands(part):
    return [(b.rating, b.low, b.high) for b in part.bands]


def test_stripped_section_stock_and_verbal_industry():
    scale = parse_scale_section(STRIPPED_TWO_PARTS)
    assert _bands(scale.stock) == [("买入", 0.20, None), ("增持", 0.05, 0.20), ("中性", -0.05, 0.05),
                                   ("减持", None, -0.05)]
    assert scale.stock.horizon_months == "6" and scale.stock.scale_type == "relative"
    assert scale.stock.benchmarks == {"A": "000300.SH", "HK": "HSI"}
    assert scale.stock.benchmarks_promised == {"A": "沪深300", "HK": "恒生指数"}
    assert _bands(scale.industry) == [("看好", 0.0, None), ("中性", None, None), ("看淡", None, 0.0)]
    assert scale.industry.band("看好").text == "行业指数领先沪深300指数"


def test_same_section_with_lines_gives_the_same_scale():
    with_lines = STRIPPED_TWO_PARTS.replace("；", "；\n").replace("。", "。\n").replace("股票评级", "\n股票评级\n")
    assert parse_scale_section(with_lines) == parse_scale_section(STRIPPED_TWO_PARTS)


def test_lines_with_range_horizon_and_shanghai_composite():
    scale = parse_scale_section(LINES_COLUMNS)
    assert scale.stock.horizon_months == "6-12"
    assert _bands(scale.stock) == [("优于大市", 0.10, None), ("中性", -0.10, 0.10), ("弱于大市", None, -0.10)]
    assert scale.stock.benchmarks == {"A": "000001.SH"} and scale.stock.benchmarks_promised == {"A": "上证综指"}
    assert _bands(scale.industry) == [("优于大市", 0.10, None)]


def test_column_layout_words_then_descriptions():
    scale = parse_scale_section(STRIPPED_COLUMN_LAYOUT)
    assert _bands(scale.stock) == [("买入", 0.20, None), ("增持", 0.05, 0.20), ("中性", -0.05, 0.05),
                                   ("减持", None, -0.05)]
    assert scale.stock.benchmarks == {"A": "000300.SH"}          # no index named: CSI 300 with a note
    assert "scored against CSI 300" in scale.notes


def test_absolute_and_coverage_scales_have_no_index():
    absolute = parse_scale_section(STRIPPED_ABSOLUTE)
    assert absolute.stock.scale_type == "absolute" and absolute.stock.benchmarks == {}
    assert absolute.stock.benchmarks_promised == {"A": "absolute"} and absolute.stock.horizon_months == "6-12"
    assert _bands(absolute.stock)[2] == ("中性", -0.05, 0.05)
    coverage = parse_scale_section(STRIPPED_COVERAGE)
    assert coverage.stock.scale_type == "coverage" and coverage.stock.benchmarks == {}
    assert _bands(coverage.stock)[0] == ("推荐", 0.20, None) and _bands(coverage.stock)[3] == ("回避", None, -0.10)


@pytest.mark.parametrize("desc, band", [
    ("预期未来6个月个股涨跌幅相对大盘在15%以上", (0.15, None)),                 # 涨跌幅 is not 跌幅
    ("股价涨幅落后市场基准5%至15%之间", (-0.15, -0.05)),                       # comparator beats 涨幅
    ("股价相对弱于上证指数达到或超过15%", (None, -0.15)),                      # first comparator wins
    ("相对弱于市场表现10%以下", (None, -0.10)),
    ("行业指数低于基准指数平均回报10%及以上", (None, -0.10)),
    ("预计未来半年内相对沪深300涨幅介于-10%与10%之间", (-0.10, 0.10)),
    ("未来12个月优于/劣于MSCI中国少于10%", (-0.10, 0.10)),
])
def test_band_wording_variants(desc, band):
    assert parse_band_text(desc) == band


def _registry(tmp_path, versions_yaml: str):
    (tmp_path / "aliases.yaml").write_text(
        "aliases:\n  华泰证券: [华泰]\n  国泰海通证券: [国泰海通]\nlineage:\n"
        "  - {old: 安信证券, new: 国投证券, date: 2024-01-02, kind: renamed}\n"
        "  - {old: 国泰君安证券, new: 国泰海通证券, date: 2025-04-03, kind: renamed}\n"
        "  - {old: 海通证券, new: 国泰海通证券, date: 2025-03-14, kind: merged}\n", encoding="utf-8")
    (tmp_path / "a.yaml").write_text(versions_yaml, encoding="utf-8")
    return load_registry(tmp_path)


VERSIONS = """broker: 安信证券
scales:
  - {valid_from: 2014-04-25, as_of: 2014-04-25, source: corpus/stripped/1.txt,
     stock: {horizon_months: "6", benchmarks: {A: 000300.SH}, bands: {领先大市: [0.1, null], 落后大市: [null, -0.1]}}}
  - {valid_from: 2020-04-30, as_of: 2020-04-30, source: corpus/stripped/2.txt,
     stock: {horizon_months: "6-12", benchmarks: {A: 000300.SH}, bands: {买入: [0.15, null], 增持: [0.05, 0.15]}}}
"""


def test_registry_versions_by_date_and_lineage(tmp_path):
    reg = _registry(tmp_path, VERSIONS)
    assert reg.scale_for("安信证券", "2016-01-01").stock.ratings() == ["领先大市", "落后大市"]
    assert reg.scale_for("安信证券", dt.date(2021, 1, 1)).stock.ratings() == ["买入", "增持"]
    assert reg.scale_for("安信证券", "2010-01-01").source == "corpus/stripped/1.txt"   # before the first: oldest
    later = reg.scale_for("国投证券", "2025-06-20")            # renamed: inherits its predecessor's definitions
    assert later.stock.band("买入").low == 0.15 and "安信证券" in later.notes
    assert reg.entity("国投证券", "2023-06-01") == "安信证券" and reg.entity("国投证券", "2024-03-01") == "国投证券"
    assert reg.group("安信证券", "2020-01-01") == "国投证券"
    assert reg.group("国泰海通", "2024-10-28") == "国泰海通证券" and reg.entity("国泰海通证券", "2024-10-28") == "国泰君安证券"
    assert reg.group("海通证券", "2020-01-01") == "国泰海通证券"
    assert reg.group("华泰", "2024-01-01") == "华泰证券" and reg.canonical("华泰") == "华泰证券"
    assert ("华泰", "华泰证券") not in reg.alias_items()       # two-character names never searched in text


def test_registry_rejects_bad_lineage(tmp_path):
    (tmp_path / "aliases.yaml").write_text("lineage:\n  - {old: A, new: B, date: soon, kind: renamed}\n",
                                           encoding="utf-8")
    with pytest.raises(ValueError, match=r"aliases.yaml: lineage\[0\]: date 'soon'"):
        load_registry(tmp_path)


def test_broker_group_filled_for_csv_rows(tmp_path):
    reg = _registry(tmp_path, VERSIONS)
    path = tmp_path / "r.csv"
    path.write_text("发布日期,机构,股票代码,投资评级,研究员,评级变化\n"
                    "2023-05-04,安信证券,600519,买入-A,张三,首次\n"
                    "2025-07-01,国投证券,000001,買入,李四,维持\n"
                    "2025-07-02,国投证券,000002,强力买入,李四,\n", encoding="utf-8")
    df, messages = signals_from_ratings_csv(path, reg)
    assert list(df["broker_group"]) == ["国投证券"] * 3
    assert list(df["rating"]) == ["买入", "买入", "强力买入"] and list(df["risk_suffix"]) == ["A", "", ""]
    assert df.iloc[0]["band_low"] == 0.15 and df.iloc[0]["action"] == "initiate" and df.iloc[0]["analysts"] == "张三"
    assert math.isnan(df.iloc[2]["band_low"])
    assert any("rating words outside the known vocabulary: 强力买入 ×1" in m.text for m in messages)
    frame = df.copy()
    frame["broker_group"] = ""
    assert list(fill_broker_group(frame, reg)["broker_group"]) == ["国投证券"] * 3


@pytest.mark.parametrize("word, out", [("买入-A", ("买入", "A")), ("增持（B）", ("增持", "B")), ("買入", ("买入", "")),
                                       ("賣出", ("卖出", "")), ("優於大市", ("优于大市", "")), (" 中性 ", ("中性", ""))])
def test_normalize_rating(word, out):
    assert normalize_rating(word) == out


def test_column_names_and_explicit_map():
    rename, notes = map_columns(["date", "broker", "code", "rating", "analyst", "rating_change"])
    assert rename == {"date": "report_date", "broker": "broker", "code": "code", "rating": "rating",
                      "analyst": "analysts", "rating_change": "action"}
    assert "column 'date' read as report_date" in notes
    rename, _ = map_columns(["发布时间", "券商X", "证券代码", "最新评级"],
                            parse_column_map(["date=发布时间", "broker=券商X"]))
    assert rename == {"发布时间": "report_date", "券商X": "broker", "证券代码": "code", "最新评级": "rating"}
    with pytest.raises(ValueError, match="'when' is not a ratings column"):
        parse_column_map(["when=发布时间"])
    with pytest.raises(ValueError, match="mapped column '发布' .* not in the file"):
        map_columns(["date"], {"report_date": "发布"})


def test_real_ratings_file_ingests_and_is_covered(shared):
    path = shared / "data" / "ratings" / "ratings_2024_2025.csv"
    if not path.is_file():
        pytest.skip("ratings file not in ../shared")
    reg = load_registry()
    df, messages = signals_from_ratings_csv(path, reg)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert len(df) == len(raw) == 18731
    canon = raw.assign(broker=raw["broker"].map(lambda b: reg.canonical(b) or b))
    repeats = len(raw) - len(canon.drop_duplicates(["broker", "code", "date"]))   # same rating printed twice
    assert any(f"{repeats} row(s) repeat the broker, code, date" in m.text for m in messages)
    assert (df["broker_group"] != "").all()
    cov = ratings_coverage(raw.rename(columns={"date": "report_date"}), reg)
    # measured 89.4 %: the brokers still without a scale (财通, 华鑫, 国泰海通, 海通国际 …) have no report in the corpus
    assert cov.total == 18731 and cov.share >= 0.88
    # independent count, row by row: a scale with a stock part on the rating's date
    plain = sum(1 for b, d in zip(raw["broker"], raw["date"])
                if (s := reg.scale_for(b, d)) is not None and s.stock is not None)
    assert cov.with_scale == plain
    assert dict(cov.without)["财通证券"] == int((raw["broker"] == "财通证券").sum())
