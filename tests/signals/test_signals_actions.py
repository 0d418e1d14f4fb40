"""Rating actions (首次/维持/上调/下调) of stocks in industry reports: read from the running text, from a table's
title or note printed once for every row, and from ``评级由X上调为Y`` phrases. Texts written for these tests."""

from __future__ import annotations

from engine.signals.flat_report import read_flat_report
from engine.signals.stripped import find_table_rows

TABLE = ("表1:重点公司盈利预测代码名称股价(元)EPSPE投资评级2020E2021E2022E2020E2021E2022E"
         "600519贵州茅台40.000.500.801.25805032买入"
         "000858五粮液30.001.201.502.40252013增持"
         "资料来源:Wind。")


def _actions(text: str) -> dict[str, tuple[str, str, str]]:
    rep = read_flat_report(text)
    return {s.name: (s.rating, s.action, s.previous_rating) for s in rep.stocks if s.kind == "rating"}


def test_phrase_in_a_company_section_with_a_table_between():
    # the section names 贵州茅台, then the table (which names both stocks, 五粮液 last), then the phrase:
    # the phrase belongs to the section's subject, not to the table's last row
    text = ("重点公司推荐。贵州茅台:高端白酒龙头。公司渠道改革推进顺利,直营占比提升。" + TABLE
            + "预计公司2020-2022年EPS分别为0.50/0.80/1.25元,维持买入评级。")
    got = _actions(text)
    assert got["贵州茅台"] == ("买入", "reiterate", "")
    assert got["五粮液"] == ("增持", "", "")


def test_phrase_gives_the_action_word_nearest_the_rating():
    text = ("重点公司推荐。五粮液:次高端龙头。" + TABLE + "投资建议:下调盈利预测,维持“增持”评级。")
    assert _actions(text)["五粮液"] == ("增持", "reiterate", "")


def test_change_phrase_gives_upgrade_and_previous_rating():
    text = (TABLE + "表2:重点覆盖公司投资要点及评级。以下为各公司的投资要点与评级变动说明,按公司代码排列,供投资者参考。"
            "五粮液(000858)增持。渠道库存回落,我们将公司评级由“中性”上调为“增持”。"
            "贵州茅台(600519)买入。业绩稳定,我们将其投资评级由“增持”上调为“买入”。")
    got = _actions(text)
    assert got["五粮液"] == ("增持", "upgrade", "中性")
    assert got["贵州茅台"] == ("买入", "upgrade", "增持")


def test_a_new_numbered_section_starts_a_new_subject():
    # 5.2. is about a stock this report does not rate: its 首次覆盖 phrase is not 贵州茅台's
    text = (TABLE + "5.1.贵州茅台高端白酒龙头,渠道改革顺利。"
            "5.2.某某生物:全球领先的生物药企业。公司收入快速增长,首次覆盖、给予“买入”评级。")
    assert _actions(text)["贵州茅台"] == ("买入", "", "")


def test_action_printed_once_in_the_rating_column_title():
    flat = ("表1:重点公司盈利预测代码名称股价(元)EPSPE投资评级(维持)2020E2021E2022E2020E2021E2022E"
            "600519贵州茅台40.000.500.801.25805032买入"
            "000858五粮液30.001.201.502.40252013增持资料来源:Wind")
    rows = {r.code: (r.rating, r.action) for r in find_table_rows(flat)}
    assert rows == {"600519.SH": ("买入", "reiterate"), "000858.SZ": ("增持", "reiterate")}


def test_action_printed_once_in_a_note_after_the_table():
    flat = ("表1:重点公司盈利预测代码名称股价(元)EPSPE投资评级2020E2021E2022E2020E2021E2022E"
            "600519贵州茅台40.000.500.801.25805032买入"
            "000858五粮液30.001.201.502.40252013增持注:以上公司评级均为首次覆盖。资料来源:Wind")
    rows = {r.code: (r.rating, r.action) for r in find_table_rows(flat)}
    assert rows == {"600519.SH": ("买入", "initiate"), "000858.SZ": ("增持", "initiate")}


def test_a_row_action_is_kept_over_the_table_action():
    flat = ("表1:重点公司盈利预测代码名称股价(元)EPSPE投资评级(维持)2020E2021E2022E2020E2021E2022E"
            "600519贵州茅台40.000.500.801.25805032买入首次"
            "000858五粮液30.001.201.502.40252013增持资料来源:Wind")
    rows = {r.code: r.action for r in find_table_rows(flat)}
    assert rows == {"600519.SH": "initiate", "000858.SZ": "reiterate"}


def test_industry_rating_action_in_the_head_is_not_a_table_action():
    flat = ("行业评级:增持(维持)表1:重点公司盈利预测代码名称股价(元)EPSPE投资评级2020E2021E2022E2020E2021E2022E"
            "600519贵州茅台40.000.500.801.25805032买入资料来源:Wind")
    (row,) = find_table_rows(flat)
    assert (row.rating, row.action) == ("买入", "")


def test_market_suffix_after_the_code_keeps_the_name_before_it():
    flat = ("图表6:重点公司估值公司名称股票代码评级目标价收盘价(元)"
            "贵州茅台*600519CH买入62.3747.23-0.810.861.01资料来源:Wind")
    (row,) = find_table_rows(flat)
    assert (row.code, row.name, row.rating) == ("600519.SH", "贵州茅台", "买入")


def test_the_name_opening_a_numbered_section_owns_its_phrase():
    # 6.2.五粮液's section names 贵州茅台 later (a peer), yet its 维持 phrase is 五粮液's
    text = (TABLE + "6.1.贵州茅台高端白酒龙头。维持“买入”评级。"
            "6.2.五粮液次高端龙头,与贵州茅台相比渠道库存更低,批价稳定。维持“增持”评级。")
    got = _actions(text)
    assert got["五粮液"] == ("增持", "reiterate", "")
    assert got["贵州茅台"] == ("买入", "reiterate", "")
