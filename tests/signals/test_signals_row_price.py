"""Price cells of run-together table rows (``engine.signals.row_price``, ``engine.signals.named_rows`` and their use
in ``find_table_rows`` / ``read_flat_report``). Every row is written for these tests; the PE cells are computed
here from the price and EPS (``round(price / eps)``) so the expected price is checked against an independent
computation, not against the parser's own reading."""

from __future__ import annotations

import math

import pytest

from engine.signals.flat_report import read_flat_report
from engine.signals.fields import find_price
from engine.signals.row_price import last_price, readings
from engine.signals.stripped import find_table_rows, flatten


def _pe(price: float, eps: float) -> str:
    return str(math.floor(price / eps + 0.5))


def _eps1(values: list[float]) -> str:
    return "".join(f"{v:.1f}" for v in values)


# ---- price-last rows: the price's integer digits run into the PE cell before it ------------------------------

@pytest.mark.parametrize("price, eps", [
    (33.14, [0.6, 0.5, 0.6, 0.8]),      # one-decimal EPS, PE 41 right before the price: not 133.14
    (44.63, [1.1, 1.3, 1.6, 2.0]),
    (436.88, [8.8, 7.5, 9.9, 12.6]),    # a three-digit price stays three digits
    (8.05, [0.2, 0.3, 0.4]),            # a one-digit price after PE 20
])
def test_price_last_row_split_by_pe_arithmetic(price, eps):
    run = _eps1(eps) + "".join(_pe(price, e) for e in eps) + f"{price:.2f}"
    got, note = last_price(run)
    assert got == pytest.approx(price) and note == ""


def test_price_last_row_with_pe_of_another_day_still_splits():
    # PE columns computed at a price 4 % off the printed one (common: forecasts dated before the price)
    eps, price = [1.1, 1.3, 1.6, 2.0], 44.63
    run = _eps1(eps) + "".join(_pe(price * 1.04, e) for e in eps) + f"{price:.2f}"
    assert last_price(run)[0] == pytest.approx(price)


def test_price_last_row_not_certain_is_left_empty_with_a_note():
    # PE cells that fit no reading of the price (77 for every year): 3.14, 33.14, 133.14 all fail the check
    run = "0.60.50.60.8" + "77777777" + "133.14"
    got, note = last_price(run)
    assert got is None
    assert "not split with certainty" in note and "33.14" in note
    assert readings(run) == [3.14, 33.14, 133.14, 7133.14]


def test_price_standing_alone_is_read_as_printed():
    assert last_price("133.14") == (133.14, "")
    assert last_price("1,217.73") == (1217.73, "")


def test_price_last_row_all_cells_two_decimals():
    # market cap 315, PE 40.12 / 30.50 / 25.08 (no EPS printed), price 72.40: the cells' uniform two decimals
    # fix the split (1540.12 would be a five-digit cell)
    assert last_price("31540.1230.5025.0872.40") == (72.40, "")


def test_table_row_price_last_with_one_decimal_eps():
    eps, price = [0.6, 0.5, 0.6, 0.8], 33.14
    row = "600519贵州茅台买入" + _eps1(eps) + "".join(_pe(price, e) for e in eps) + f"{price:.2f}"
    flat = ("表1:重点推荐公司盈利预测表代码名称最新评级EPSPE股价20192020E2021E2022E20192020E2021E2022E21/03/26"
            + row + "资料来源:Wind")
    (got,) = find_table_rows(flat)
    assert got.code == "600519.SH" and got.rating == "买入"
    assert got.price == pytest.approx(33.14) and got.price_note == ""


def test_uncertain_row_price_is_empty_and_the_report_says_so():
    flat = ("表1:重点推荐公司盈利预测表代码名称最新评级EPSPE股价20192020E2021E2022E20192020E2021E2022E21/03/26"
            "600519贵州茅台买入0.60.50.60.877777777133.14资料来源:Wind")
    rep = read_flat_report(flat)
    (stock,) = [s for s in rep.stocks if s.kind == "rating"]
    assert stock.price is None
    assert "not split with certainty" in stock.provenance["price_at_report"]["note"]
    assert any("price_at_report left empty" in n for n in rep.notes)


# ---- a table whose header is printed after its rows ----------------------------------------------------------

def test_header_after_the_rows_gives_the_column_order():
    # cells: market cap, price, EPS ×3, PE ×3 (PE computed at another day's price, so arithmetic alone does not
    # decide); the header (总市值 before 收盘价) comes after the rows, as some PDF extractors emit it
    flat = ("图表5:相关公司估值数据来源:Wind。"
            "600519贵州茅台879.4020.060.560.981.26352115买入"
            "000858五粮液341.65219.811.701.712.43150125 88买入".replace(" ", "")
            + "投资评级代码公司总市值(亿元)收盘价(元)EPSPE第5页")
    rows = {r.code: r for r in find_table_rows(flat)}
    assert rows["600519.SH"].price == pytest.approx(20.06)
    assert rows["000858.SZ"].price == pytest.approx(219.81)


# ---- prices printed in a second table by name only (an industry column before the name) ----------------------

def _valuation_row(industry: str, name: str, price: float, eps: list[float]) -> str:
    return industry + name + f"{price:.2f}" + "".join(f"{e:.2f}" for e in eps) + "".join(
        f"{price / e:.2f}" for e in eps)


def test_price_from_a_table_that_prints_the_stock_by_name():
    flat = ("表1:重点覆盖公司评级公司简称投资评级贵州茅台(600519)买入我们维持其“买入”评级。"
            "五粮液(000858)增持我们首次覆盖给予其“增持”评级。资料来源:Wind"
            "表2:重点覆盖公司盈利预测和估值行业分类公司名称股价(元)EPS(元)PE(倍)2020E2021E2022E202020212022"
            + _valuation_row("白酒Ⅲ", "贵州茅台", 40.00, [0.50, 0.80, 1.25])
            + _valuation_row("白酒Ⅲ", "五粮液", 30.00, [1.20, 1.50, 2.40]) + "资料来源:Wind")
    rep = read_flat_report(flat)
    got = {s.code: s for s in rep.stocks if s.kind == "rating"}
    assert got["600519.SH"].price.value == pytest.approx(40.00)
    assert got["000858.SZ"].price.value == pytest.approx(30.00)
    assert "by name" in got["600519.SH"].provenance["price_at_report"]["note"]


def test_name_followed_by_numbers_in_prose_is_not_a_price():
    # no valuation header and no EPS/PE arithmetic: 五粮液's numbers are revenue growth, not a price row
    flat = ("表1:重点覆盖公司评级公司简称投资评级五粮液(000858)增持我们首次覆盖给予其“增持”评级。"
            "人均创收对比企业201820192020五粮液38.2738.5150.9940.3463.9993.41资料来源:Wind")
    rep = read_flat_report(flat)
    (stock,) = [s for s in rep.stocks if s.kind == "rating"]
    assert stock.price is None


# ---- price label with the currency word between label and number --------------------------------------------

def test_market_price_label_with_currency_word():
    hit = find_price(flatten("600519.SH增持原评级:增持市场价格:人民币349.2板块评级:强于大市")[0])
    assert hit.value == pytest.approx(349.2) and hit.currency == "CNY"
    hit = find_price(flatten("市场价格:港币12.30")[0])
    assert hit.value == pytest.approx(12.30) and hit.currency == "HKD"


# ---- an industry report whose head lists several companies equally (a table of contents) ----------------------

def test_table_of_contents_pairs_do_not_make_a_company_report():
    flat = ("医疗器械推荐(维持)医疗器械国产化专题2015年2月5日目录3.1鱼跃医疗(002223)......143.2乐普医疗(300003)......15"
            + "正文。" * 20
            + "表3:重点公司盈利预测及投资评级股票代码股票名称股价(元)EPSPE评级"
            "002223鱼跃医疗31.450.480.620.7965.5250.7339.81推荐"
            "300003乐普医疗24.870.451.421.6455.2717.5115.16谨慎推荐"
            "300298三诺生物40.660.831.001.2548.9940.6632.53推荐资料来源:Wind")
    rep = read_flat_report(flat)
    assert rep.report_type == "industry"
    assert rep.industry_rating is not None and rep.industry_rating.rating == "推荐"
    got = {s.code: (s.rating, s.price.value) for s in rep.stocks if s.kind == "rating"}
    assert got == {"002223.SZ": ("推荐", 31.45), "300003.SZ": ("谨慎推荐", 24.87), "300298.SZ": ("推荐", 40.66)}


# ---- plausibility against the target when the cell does not split -------------------------------------------

def test_company_subject_price_from_its_table_row_by_plausibility_against_the_target():
    # header prints no price; the row's price cell (no EPS, PE integers) reads 6.23 / 26.23 / 226.23 / 0226.23;
    # only 226.23 lies within [target / 2, target × 1.5] of the 280.00 target
    flat = ("公司点评兆易创新(603986)投资评级:增持(维持)目标价:280.00元2020年06月05日"
            + "正文。" * 20
            + "图表48:公司盈利预测(截至2020-06-05)代码简称总市值(亿元)PE(倍)股价(元)评级20192020E2021E"
            "603986.SH兆易创新1065815840226.23增持资料来源:Choice")
    rep = read_flat_report(flat)
    (stock,) = [s for s in rep.stocks if s.code == "603986.SH"]
    assert stock.price is not None and stock.price.value == pytest.approx(226.23)
    assert "plausibility" in stock.provenance["price_at_report"]["note"]


# ---- the industry rating printed in a company report's header ------------------------------------------------

def test_company_report_header_industry_rating():
    head = "公司点评贵州茅台(600519)投资评级:增持(维持)市场价格:人民币349.2板块评级:强于大市2024年5月10日"
    rep = read_flat_report(head + "正文。" * 30)
    assert rep.report_type == "company"
    assert rep.industry_rating is not None and rep.industry_rating.rating == "强于大市"
    legend = ("公司点评贵州茅台(600519)投资评级:增持(维持)目标价:1,650.00元。公司业绩稳健,渠道改革持续推进,直营占比提升。"
              "行业评级看好中性看淡(维持)2024年5月10日")
    rep = read_flat_report(legend + "正文。" * 30)
    assert rep.report_type == "company" and rep.industry_rating is None


def test_company_subject_row_read_by_column_order_alone_gives_no_price():
    # the subject's only row is a growth table (percentages): no price ÷ EPS = PE confirms a price cell there
    flat = ("公司点评迈瑞医疗(300760)投资评级:买入(维持)2021年3月1日" + "正文。" * 20
            + "表5:可比公司增速代码简称2019A2020E2021E"
            "300760.SZ迈瑞医疗25.04%41.70%16.66%65.24%资料来源:Wind")
    rep = read_flat_report(flat)
    (stock,) = [s for s in rep.stocks if s.code == "300760.SZ"]
    assert stock.kind == "rating" and stock.price is None


def test_company_subject_price_from_its_row_when_the_arithmetic_confirms_it():
    eps = [0.50, 0.80, 1.25]
    row = "600519.SH贵州茅台" + "40.00" + "".join(f"{e:.2f}" for e in eps) + "".join(_pe(40.0, e) for e in eps) + "买入"
    flat = ("公司点评贵州茅台(600519)投资评级:买入(维持)2021年3月1日" + "正文。" * 20
            + "表1:盈利预测代码名称股价(元)EPSPE评级2020E2021E2022E2020E2021E2022E" + row + "资料来源:Wind")
    (stock,) = [s for s in read_flat_report(flat).stocks if s.code == "600519.SH"]
    assert stock.price.value == pytest.approx(40.00)
