"""``ratingbt ratings propose`` / ``coverage`` and ``ratingbt ingest --map`` through typer's CliRunner."""

from __future__ import annotations

import pandas as pd
import yaml
from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()

OLD = ("正文。2019年3月1日。测试证券股份有限公司（以下简称“本公司”）。评级说明以报告发布日后的6个月内公司股价相对"
       "沪深300指数的涨跌幅为基准。买入：相对沪深300指数涨幅20%以上；增持：相对沪深300指数涨幅介于5%～20%之间；"
       "中性：相对沪深300指数涨幅介于-5%～5%之间；减持：相对沪深300指数跌幅5%以上。免责声明本报告仅供测试证券股份有限公司客户使用。")
NEW = OLD.replace("2019年3月1日", "2021年4月1日").replace("6个月", "6-12个月").replace("20%以上", "15%以上") \
         .replace("5%～20%", "5%～15%")


def test_propose_dated_versions_and_changes(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.txt").write_text(OLD * 3, encoding="utf-8")
    (folder / "b.txt").write_text(NEW * 3, encoding="utf-8")
    out = tmp_path / "proposed"
    result = runner.invoke(app, ["ratings", "propose", str(folder), "-o", str(out)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load((out / "测试证券.yaml").read_text(encoding="utf-8"))
    first, second = doc["scales"]
    assert (first["valid_from"], first["source"]) == ("2019-03-01", "reports/a.txt")
    assert first["stock"]["bands"]["买入"] == [0.2, None] and first["stock"]["horizon_months"] == "6"
    assert second["valid_from"] == "2021-04-01" and second["stock"]["bands"]["增持"] == [0.05, 0.15]
    assert "changed: 测试证券 2019-03-01" in result.output and "horizon 6-12 months (new) vs 6 (old)" in result.output


def test_propose_and_coverage_errors_name_the_file(tmp_path):
    result = runner.invoke(app, ["ratings", "propose", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "nope: not a folder of reports" in result.output
    result = runner.invoke(app, ["ratings", "coverage", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "missing.csv" in result.output and "Traceback" not in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("when,who\n2024-01-01,x\n", encoding="utf-8")
    result = runner.invoke(app, ["ratings", "coverage", str(bad)])
    assert result.exit_code == 2 and "bad.csv: no column for broker, report_date, rating" in result.output
    assert "ratings coverage ../shared/data/ratings" in runner.invoke(app, ["ratings", "coverage", "--help"]).output


def test_coverage_counts_by_broker(tmp_path):
    path = tmp_path / "r.csv"
    rows = ["日期,机构,股票代码,评级"] + ["2024-03-01,上海证券,600519,买入"] * 3 + ["2024-03-01,无名证券,000001,买入"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["ratings", "coverage", str(path)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "4 ratings; broker has a registry scale: 3 (75.0 %)" in result.output
    assert "无名证券 1" in result.output


def test_ingest_with_map_option(tmp_path):
    path = tmp_path / "vendor.csv"
    path.write_text("发布时间,券商X,证券代码,最新评级\n2024-03-01,上海证券,600519,买入-A\n", encoding="utf-8")
    out = tmp_path / "s.csv"
    result = runner.invoke(app, ["ingest", str(path), "--map", "report_date=发布时间", "--map", "broker=券商X",
                                 "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    row = table.iloc[0]
    assert (row["broker"], row["rating"], row["risk_suffix"], row["report_date"]) == ("上海证券", "买入", "A", "2024-03-01")
    assert row["broker_group"] == "上海证券" and float(row["band_low"]) == 0.2
    bad = runner.invoke(app, ["ingest", str(path), "--map", "when=发布时间"])
    assert bad.exit_code == 2 and "'when' is not a ratings column" in bad.output
