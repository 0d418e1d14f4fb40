"""Flat (whitespace-stripped) report text: one test per trap, on small texts written for these tests."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from engine.signals.extract import detect_broker_flat, extract_report
from engine.signals.fields import find_analysts, find_price, find_publication_date_flat, find_target
from engine.signals.scales import ScaleRegistry
from engine.signals.security_master import SecurityMaster
from engine.signals.stripped import find_table_rows, flatten, is_stripped, split_number_run, to_ascii

REG = ScaleRegistry({}, {})
MASTER = SecurityMaster()


# ---- numbers ------------------------------------------------------------------------------------------------

def test_thousands_separator_target_and_price():
    flat, _ = flatten("目标价：1,650.00 元  当前价：1,217.73 元")
    assert find_target(flat).value == 1650.0
    price = find_price(flat)
    assert price.value == pytest.approx(1217.73) and price.currency == "CNY"


def test_full_width_digits_and_dots():
    assert to_ascii("１２．５０元（６个月）") == "12.50元(6个月)"
    flat, _ = flatten("６个月目标价：１２．５０元")
    hit = find_target(flat)
    assert hit.value == 12.5 and hit.horizon_months == 6


def test_target_range_gives_low_high_and_midpoint():
    flat, _ = flatten("目标价：25.60-28.40元（6个月）")
    hit = find_target(flat)
    assert (hit.low, hit.high) == (25.6, 28.4)
    assert hit.value == pytest.approx((25.6 + 28.4) / 2)
    assert hit.horizon_months == 6


def test_target_run_into_the_date_stops_at_two_decimals():
    flat, _ = flatten("投资评级(维持):增持目标价(人民币):43.822021年4月14日")
    assert find_target(flat).value == 43.82
    assert find_publication_date_flat(flat).date == dt.date(2021, 4, 14)


@pytest.mark.parametrize("text, value, day", [
    ("收盘价（元）35.00近12个月最高", 35.0, None),
    ("股价（2021-04-13）35.00元", 35.0, dt.date(2021, 4, 13)),
    ("市价(元)358.00市值(百万元)", 358.0, None),
    ("目标价：15.1昨收盘：12.29", 12.29, None),
    ("当前价格￥20.25", 20.25, None),
    ("收盘价(人民币截至2021年3月30日)158.42市值", 158.42, dt.date(2021, 3, 30)),
])
def test_price_label_variants(text, value, day):
    hit = find_price(flatten(text)[0])
    assert hit.value == pytest.approx(value)
    assert hit.date == day


def test_price_in_prose_is_not_a_price():
    assert find_price(flatten("公司股价上涨12.5%，市场关注度提升")[0]) is None


# ---- analysts -----------------------------------------------------------------------------------------------

def test_analyst_lines():
    flat, _ = flatten("分析师：薛缘 执业证书编号：S0001 证券分析师:王小明执业证书编号:S0002 分析师：李华lihua@abc.com")
    assert find_analysts(flat) == ["薛缘", "王小明", "李华"]
    assert find_analysts(flatten("分析师声明：本人具有证券投资咨询执业资格")[0]) == []


# ---- dates --------------------------------------------------------------------------------------------------

def test_date_traps_related_reports_price_dates_and_chart_axes():
    text = ("证券研究报告相关报告《光伏行业深度：平价时代》2021-01-05《储能专题》--20201130分析师：张三执业证书"
            "股价（2021-03-19）25.00元20/3/2020/5/2020/7/20[Table_Date]发布时间：2021-03-22买入")
    hit = find_publication_date_flat(flatten(text)[0])
    assert hit.date == dt.date(2021, 3, 22) and hit.labelled


def test_first_unlabelled_date_outside_traps():
    text = "事件：2021年4月13日公司发布公告，获批上市。公司点评2021年04月14日"
    assert find_publication_date_flat(flatten(text)[0]).date == dt.date(2021, 4, 14)


# ---- run-together table rows --------------------------------------------------------------------------------

def test_split_number_run_two_decimals():
    assert split_number_run("63.600.500.79") == ["63.60", "0.50", "0.79"]
    assert split_number_run("1.52.06") is None            # mixed decimals: not split with certainty
    assert split_number_run("1,204.36155.00") == ["1,204.36", "155.00"]


def test_code_first_rows_with_glued_next_code():
    text = ("重点公司盈利预测代码名称股价EPS(元)PE评级2020A2021E2020A2021E"
            "300750宁德时代412.302.155.2019279买入601012隆基股份88.151.422.056243增持资料来源：Wind")
    rows = find_table_rows(flatten(text)[0])
    assert [(r.code, r.name, r.rating) for r in rows] == [("300750.SZ", "宁德时代", "买入"),
                                                         ("601012.SH", "隆基股份", "增持")]
    assert [r.price for r in rows] == [412.30, 88.15]


def test_name_first_rows_with_code_glued_to_price():
    text = "公司名称代码股价EPSPE投资评级14A15E16E14A15E16E宝钢股份60001912.340.450.520.61272420谨慎增持"
    rows = find_table_rows(flatten(text)[0])
    assert [(r.code, r.rating, r.price) for r in rows] == [("600019.SH", "谨慎增持", 12.34)]


def test_rows_without_codes_closed_by_their_rating():
    text = ("重点公司现价EPSPE评级2020A2021E2020A2021E中国中免205.503.215.1064.0240.29买入"
            "青岛啤酒98.401.641.8260.0054.07增持-10%0%10%20%")
    rows = find_table_rows(flatten(text)[0])
    assert [(r.code, r.name, r.rating) for r in rows] == [("", "中国中免", "买入"), ("", "青岛啤酒", "增持")]
    assert rows[0].price == 205.50


def test_price_column_after_market_cap_and_last():
    second = "代码简称总市值(亿元)收盘价(元)EPSPE评级000333美的集团5,210.3374.503.504.102118买入"
    assert find_table_rows(flatten(second)[0])[0].price == 74.50
    last = "代码简称市值(亿元)PE2020E2021E股价(元)评级600519贵州茅台25,123.4551.2343.212,000.00买入"
    assert find_table_rows(flatten(last)[0])[0].price == 2000.00


def test_risk_suffix_and_action_in_row():
    rows = find_table_rows(flatten("首选股票评级300015爱尔眼科买入-A维持002050三花智控增持-B首次")[0])
    assert [(r.code, r.rating, r.suffix, r.action) for r in rows] == [
        ("300015.SZ", "买入", "A", "reiterate"), ("002050.SZ", "增持", "B", "initiate")]


def test_unrated_rows_and_comparables_and_shareholder_trades_are_not_ratings():
    unrated = "代码名称股价EPS评级002415海康威视35.201.521.80未评级"
    assert [r.rating for r in find_table_rows(flatten(unrated)[0])] == [""]
    comps = "表5：可比公司估值代码简称股价EPSPE评级603259药明康德130.502.012.506552买入"
    assert [r.rating for r in find_table_rows(flatten(comps)[0])] == [""]
    trades = "表4：上市公司股东增、减持情况证券代码证券简称变动次数增减仓净买入股份数600276.SH恒瑞医药21增持0.081.00"
    assert [r.rating for r in find_table_rows(flatten(trades)[0])] == [""]


def test_prose_is_not_a_row():
    text = "公司实现营业收入31.8亿元，同比增长18.12%；对应P/E市盈率为69.12，59.19，47.87，维持增持评级。"
    assert [r for r in find_table_rows(flatten(text)[0]) if r.rating] == []


# ---- whole reports ------------------------------------------------------------------------------------------

COMPANY = (
    "请务必阅读正文之后的免责条款部分[Table_Title]公司点评报告2024年05月10日阳光储能(300999)"
    "[Table_Invest]买入-A|首次评级[Table_TargetPrice]当前价：1,217.73元6个月目标价：1,650.00元"
    "[Table_Author]分析师：薛缘执业证书编号：S0000000000001相关研究《储能龙头，首次覆盖》2024-03-01"
    "投资要点：公司储能业务高增。盈利预测与估值：我们首次覆盖，给予“买入”评级。"
    "可比公司估值代码简称股价EPS评级300274阳光电源90.103.214.00买入风险提示：需求不及预期。"
    + "正文内容。" * 80 +
    "分析师声明本报告署名分析师具有证券投资咨询执业资格。投资评级说明股票投资评级买入：未来6个月内股价相对沪深300指数"
    "涨幅20%以上；增持：未来6个月内股价相对沪深300指数涨幅5%至20%；中性：相对沪深300指数涨跌幅-5%至5%；"
    "减持：相对沪深300指数跌幅5%以上。行业投资评级看好：行业指数相对沪深300指数涨幅10%以上。"
    "本报告版权属于某某证券股份有限公司。某某证券研究所"
)


def test_company_report_in_stripped_text():
    assert is_stripped(COMPANY)
    rep = extract_report(COMPANY, "c.txt", REG, MASTER)
    assert rep.report_type == "company" and rep.report_date == dt.date(2024, 5, 10)
    assert rep.broker == "某某证券" and rep.analysts == ["薛缘"]
    rated = [r for r in rep.rows if r["kind"] == "rating"]
    assert [(r["code"], r["rating"], r["risk_suffix"], r["action"]) for r in rated] == [
        ("300999.SZ", "买入", "A", "initiate")]
    row = rated[0]
    assert row["target_price"] == 1650.0 and row["price_at_report"] == pytest.approx(1217.73)
    assert row["target_horizon_months"] == 6
    assert (row["band_low"], math.isnan(row["band_high"])) == (0.20, True)
    assert row["evidence"] and len(row["evidence"]) <= 120
    prov = json.loads(row["provenance"])
    assert COMPANY[prov["target_price"]["offset"]:].startswith("6个月目标价") or \
        COMPANY[prov["target_price"]["offset"]:].startswith("目标价")
    # the comparable company is named, never rated
    assert "300274.SZ" not in {r["code"] for r in rated}


INDUSTRY = (
    "请务必阅读正文后的声明及说明[Table_Info1]机械设备[Table_Date]发布时间：2023-11-20[Table_Invest]推荐(维持)"
    "相关报告《工程机械周报》2023-11-13证券分析师：周明执业证书编号：S0000000000002"
    "行业研究/行业深度报告挖掘机销量回暖。" + "行业景气回升。" * 40 +
    "表3：重点公司盈利预测与评级代码名称股价(元)EPS(元)PE评级2022A2023E2024E2022A2023E2024E"
    "600031三一重工15.200.500.650.80302319推荐维持000425徐工机械5.610.360.480.60161210谨慎推荐首次"
    "资料来源：Wind，某某证券研究所；注：股价为2023年11月17日收盘价。建议关注：恒立液压(601100)、艾迪精密(603638)。"
    + "正文。" * 60 +
    "投资评级说明公司评级推荐：预计未来6个月内股价相对沪深300指数涨幅15%以上；谨慎推荐：涨幅5%~15%；"
    "中性：涨幅-5%~5%；回避：跌幅5%以上。行业评级推荐：行业指数涨幅10%以上。某某证券股份有限公司"
)


def test_industry_report_table_rows_and_mentions():
    rep = extract_report(INDUSTRY, "i.txt", REG, MASTER)
    assert rep.report_type == "industry" and rep.report_date == dt.date(2023, 11, 20)
    assert (rep.industry_rating, rep.industry_action) == ("推荐", "reiterate")
    rated = {r["code"]: r for r in rep.rows if r["kind"] == "rating"}
    assert {c: (r["rating"], r["action"], r["price_at_report"]) for c, r in rated.items()} == {
        "600031.SH": ("推荐", "reiterate", 15.20), "000425.SZ": ("谨慎推荐", "initiate", 5.61)}
    assert not {"601100.SH", "603638.SH"} & set(rated)


def test_broker_from_signature_not_from_prose():
    flat = flatten("本报告版权属于长江证券股份有限公司。上海证券交易所公告。长江证券研究所")[0]
    assert detect_broker_flat(flat, REG) == "长江证券"


def test_lined_text_without_a_line_rating_is_read_flat():
    lined = INDUSTRY.replace("。", "。\n").replace("评级代码", "评级\n代码")
    rep = extract_report(lined, "l.txt", REG, MASTER)
    assert {r["code"] for r in rep.rows if r["kind"] == "rating"} == {"600031.SH", "000425.SZ"}


def test_offsets_map_back_to_the_original_text():
    text = "a b\n（目标价）：１２"
    flat, offsets = flatten(text)
    assert flat == "ab(目标价):12"
    assert [text[offsets[i]] for i in range(len(flat))] == list("ab（目标价）：１２")


def test_explain_prints_each_field_with_its_snippet(tmp_path):
    from typer.testing import CliRunner

    from engine.cli import app

    path = tmp_path / "company.txt"
    path.write_text(COMPANY, encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", "--explain", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "report_date     2024-05-10" in result.output
    assert "target_price    1650" in result.output and "«6个月目标价:1,650.00元" in result.output
    assert "rating          买入 -A" in result.output
    missing = CliRunner().invoke(app, ["ingest", "--explain", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 1 and "file not found" in missing.output
