"""The scale a report's ratings are judged by: the registry version in force on the report's date, and the signals
columns that say which scale part was used (``scale_source``, ``scale_type``, ``benchmark_promised``); the author of
a report that names no broker."""

from __future__ import annotations

import math

from engine.signals.extract import detect_broker_flat, extract_report, scale_source_label
from engine.signals.scales import load_registry
from engine.signals.security_master import load_security_master

from tests.signals.conftest import make_report

# Two dated versions written for this test: 推荐 meant +20 % until 2024-12-31, +15 % from 2025-01-01.
VERSIONS = """broker: 民生证券
scales:
  - {valid_from: 2020-01-01, as_of: 2020-01-01, source: reports/old.txt,
     stock: {horizon_months: "12", benchmarks: {A: 000300.SH}, benchmarks_promised: {A: 沪深300},
             bands: {推荐: [0.2, null], 谨慎推荐: [0.05, 0.2], 中性: [-0.05, 0.05], 回避: [null, -0.05]}}}
  - {valid_from: 2025-01-01, as_of: 2025-01-01, source: reports/new.txt,
     stock: {horizon_months: "6", benchmarks: {A: 000300.SH}, benchmarks_promised: {A: 沪深300},
             bands: {推荐: [0.15, null], 谨慎推荐: [0.05, 0.15], 中性: [-0.05, 0.05], 回避: [null, -0.05]}}}
"""


def _registry(tmp_path):
    (tmp_path / "aliases.yaml").write_text("aliases:\n  民生证券: [民生证券股份有限公司]\n", encoding="utf-8")
    (tmp_path / "minsheng.yaml").write_text(VERSIONS, encoding="utf-8")
    return load_registry(tmp_path)


def _rated(text, registry):
    rep = extract_report(text, "mem", registry, load_security_master())
    return rep, {r["code"]: r for r in rep.rows if r["kind"] == "rating"}


def test_registry_scale_is_the_version_in_force_on_the_report_date(tmp_path):
    reg = _registry(tmp_path)
    old_text = make_report(with_scale=False)                       # printed date 2024-05-10
    rep, rows = _rated(old_text, reg)
    assert str(rep.report_date) == "2024-05-10"
    row = rows["002371.SZ"]
    assert row["rating"] == "推荐" and row["band_low"] == 0.2 and math.isnan(row["band_high"])
    assert row["horizon_months"] == "12"
    assert row["scale_source"] == "registry:reports/old.txt"
    assert row["scale_type"] == "relative" and row["benchmark_promised"] == "沪深300"
    assert rows["688012.SH"]["band_low"] == 0.05 and rows["688012.SH"]["band_high"] == 0.2

    new_text = old_text.replace("2024年05月10日", "2025年05月12日").replace("2024年5月9日", "2025年5月9日")
    rep, rows = _rated(new_text, reg)
    assert str(rep.report_date) == "2025-05-12"
    row = rows["002371.SZ"]
    assert row["band_low"] == 0.15 and row["horizon_months"] == "6"
    assert row["scale_source"] == "registry:reports/new.txt"


def test_report_own_definitions_win_and_are_labelled_report(tmp_path):
    rep, rows = _rated(make_report(with_scale=True), _registry(tmp_path))
    row = rows["002371.SZ"]
    assert row["scale_source"] == "report"
    assert row["band_low"] == 0.15                                  # the report's own 评级说明 (15 %), not 20 %
    assert row["scale_type"] == "relative"
    assert rep.scale_sources["stock"] == "report"


def test_no_scale_leaves_the_columns_empty(tmp_path):
    (tmp_path / "aliases.yaml").write_text("aliases: {}\n", encoding="utf-8")
    rep, rows = _rated(make_report(with_scale=False), load_registry(tmp_path))
    row = rows["002371.SZ"]
    assert row["scale_source"] == "" and row["scale_type"] == "" and row["benchmark_promised"] == ""
    assert math.isnan(row["band_low"])


def test_scale_source_label():
    assert scale_source_label("report") == "report"
    assert scale_source_label("corpus/stripped/1.txt") == "registry:corpus/stripped/1.txt"
    assert scale_source_label("registry:a.yaml") == "registry:a.yaml"
    assert scale_source_label("") == ""


def test_author_credited_in_source_lines_when_no_broker_is_named():
    # a consultancy's report: no 证券 anywhere; its own charts are credited "…，青木咨询分析"
    text = ("行业前言随着消费升级到来图1市场规模资料来源：统计局，青木咨询分析市场结构继续变化"
            "图2渗透率资料来源：Frost&Sullivan，青木咨询分析行业集中度提升图3资料来源：公司公告，青木咨询整理结论")
    assert detect_broker_flat(text, load_registry()) == "青木咨询"
    once = "图1资料来源：统计局，青木咨询分析正文"
    assert detect_broker_flat(once, load_registry()) == ""          # one credit is not enough
