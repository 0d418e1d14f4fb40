"""Rating scales: band text parsing, the report's own 评级说明, rating levels, the registry and disagreements."""

from __future__ import annotations

import pytest

from engine.signals.extract import extract_report
from engine.signals.scales import (
    RatingBand,
    ScalePart,
    compare_scales,
    load_registry,
    parse_band_text,
    parse_scale_section,
)
from engine.signals.security_master import load_security_master


@pytest.mark.parametrize("desc, band", [
    ("相对基准指数涨幅 15%以上", (0.15, None)),
    ("相对基准指数涨幅 5% ~ 15%之间", (0.05, 0.15)),
    ("相对基准指数涨幅-5% ~ 5%之间", (-0.05, 0.05)),
    ("相对基准指数跌幅 5%以上", (None, -0.05)),
    ("股价表现将强于基准指数 5-20%", (0.05, 0.20)),
    ("股价表现将介于基准指数±5%之间", (-0.05, 0.05)),
    ("预计 12 个月内, 股价表现强于恒生指数 10%至 20%之间", (0.10, 0.20)),
    ("股票价格变动相对沪深300指数跌幅在-10%至-5%之间", (-0.10, -0.05)),
    ("股票价格变动相对沪深300指数跌幅在-10%以上", (None, -0.10)),
    ("股票价格变动相对沪深300指数涨跌幅在-5%至5%之间", (-0.05, 0.05)),
    ("相对表现优于同期基准指数", (0.0, None)),
    ("行业指数跟随沪深300指数", (None, None)),
    ("基本面向淡，行业指数落后沪深300指数", (None, 0.0)),
    ("跌幅 5%-15%", (-0.15, -0.05)),
])
def test_parse_band_text(desc, band):
    assert parse_band_text(desc) == pytest.approx(band) if None not in band else parse_band_text(desc) == band


def test_parse_band_text_rejects_non_bands():
    assert parse_band_text("公司营收同比增长") is None


def test_space_separated_scale_as_from_a_pdf():
    text = ("投资评级说明\n股票评级：以报告发布日后 6 个月内相对沪深 300 指数的涨跌幅为标准\n"
            "买入 相对沪深300指数涨幅 20%以上\n增持 相对沪深300指数涨幅 10%～20%\n"
            "中性 相对沪深300指数涨跌幅 -10%～10%\n减持 相对沪深300指数跌幅 10%以上\n"
            "行业评级：以报告发布日后 12 个月内\n看好 行业指数强于沪深300指数\n中性 行业指数与沪深300指数持平\n"
            "看淡 行业指数弱于沪深300指数\n")
    scale = parse_scale_section(text)
    assert scale.stock.horizon_months == "6" and scale.industry.horizon_months == "12"
    assert [(b.rating, b.low, b.high) for b in scale.stock.bands] == [
        ("买入", 0.20, None), ("增持", 0.10, 0.20), ("中性", -0.10, 0.10), ("减持", None, -0.10)]
    assert scale.stock.benchmarks == {"A": "000300.SH"}
    assert scale.industry.ratings() == ["看好", "中性", "看淡"]


def test_levels_by_position():
    four = ScalePart(bands=[RatingBand(rating=r) for r in ("推荐", "谨慎推荐", "中性", "回避")])
    assert [four.level(r) for r in four.ratings()] == [2, 1, 0, -2]
    three = ScalePart(bands=[RatingBand(rating=r) for r in ("强于大市", "中性", "弱于大市")])
    assert [three.level(r) for r in three.ratings()] == [2, 0, -2]
    no_neutral = ScalePart(bands=[RatingBand(rating="A", low=0.1), RatingBand(rating="B", high=0.1)])
    assert [no_neutral.level(r) for r in ("A", "B")] == [2, -2]
    assert four.level("买入") != four.level("买入")   # NaN for a word outside the scale


def test_registry_loads_seed_brokers_and_aliases():
    registry = load_registry()
    assert {"民生证券", "上海证券", "平安证券(香港)", "华龙证券"} <= set(registry.scales)
    assert registry.canonical("平安证券（香港）") == "平安证券(香港)"
    assert registry.canonical("华龙证券研究所") == "华龙证券"
    assert registry.get("民生证券").stock.band("推荐").low == 0.15
    assert registry.get("华龙证券").stock.horizon_months == "6-12"


def test_registry_errors_name_file_and_key(tmp_path):
    (tmp_path / "x.yaml").write_text("broker: X\nstock:\n  horizon_months: 'a year'\n  bands: {买入: [15, null]}\n",
                                     encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_registry(tmp_path)
    assert "x.yaml" in str(err.value) and "horizon_months" in str(err.value) and "percent" in str(err.value)
    (tmp_path / "x.yaml").write_text("broker: X\nstock:\n  bands: {买入: 0.15}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bands\.买入 must be \[low, high\]"):
        load_registry(tmp_path)


def test_report_scale_disagreeing_with_registry_warns_and_wins(make_text):
    text = make_text().replace("相对基准指数涨幅 15%以上", "相对基准指数涨幅 20%以上") \
                      .replace("相对基准指数涨幅 5% ~ 15%之间", "相对基准指数涨幅 5% ~ 20%之间")
    rep = extract_report(text, "mem", load_registry(), load_security_master())
    warning = next(m.text for m in rep.messages if "differs from the registry" in m.text)
    assert "band of 推荐: [0.2, None] in report vs [0.15, None] in registry" in warning
    row = next(r for r in rep.rows if r["code"] == "002371.SZ")
    assert row["band_low"] == 0.20


def test_compare_scales_horizon():
    registry = load_registry()
    own = registry.get("民生证券").model_copy(deep=True)
    own.stock.horizon_months = "6"
    assert compare_scales(own, registry.get("民生证券")) == ["stock horizon 6 months in report vs 12 in registry"]


def test_implausible_band_edge_is_skipped_not_raised():
    """Regression (found by hypothesis): a mangled percent such as 515% must not crash the parser."""
    from engine.signals.scales import parse_scale_section

    text = "评级说明\n以报告发布日后的 12 个月内公司股价相对沪深 300 指数的涨跌幅为基准\n推荐\t相对基准指数涨幅 515%以上\n中性\t相对基准指数涨幅-5% ~ 5%之间\n"
    scale = parse_scale_section(text)
    assert scale is not None
    assert scale.stock.ratings() == ["中性"]


def test_open_ended_bands_end_where_the_next_band_starts():
    # "above 10 %" under "above 20 %" is 10-20 %; "below -10 %" above "below -20 %" is -20 to -10 %
    text = ("投资评级说明\n股票评级：以报告发布日后 6 个月内相对沪深 300 指数的涨跌幅为标准\n"
            "增持 股价表现将强于基准指数20%以上\n谨慎增持 股价表现将强于基准指数10%以上\n"
            "中性 股价表现将介于基准指数±10%之间\n减持 股价表现将弱于基准指数10%以上\n"
            "卖出 股价表现将弱于基准指数20%以上\n")
    scale = parse_scale_section(text)
    assert [(b.rating, b.low, b.high) for b in scale.stock.bands] == [
        ("增持", 0.20, None), ("谨慎增持", 0.10, 0.20), ("中性", -0.10, 0.10), ("减持", -0.20, -0.10),
        ("卖出", None, -0.20)]
