"""``ratingbt ingest`` through typer's CliRunner."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()


def test_cli_seeds_to_parquet_and_json(shared, tmp_path):
    out = tmp_path / "signals.parquet"
    result = runner.invoke(app, ["ingest", str(shared / "seeds"), "-o", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in ("民生证券", "平安证券(香港)", "2025-05-07*", "weekly", "company", "52 signals (8 ratings, 44 mentions)"):
        assert text in result.output
    table = pd.read_parquet(out)
    assert len(table) == 52 and table["report_date"].dtype == "datetime64[ns]"
    out_json = tmp_path / "signals.json"
    assert runner.invoke(app, ["ingest", str(shared / "seeds" / "003_*.txt"), "-o", str(out_json), "-q"]).exit_code == 0
    records = json.loads(out_json.read_text(encoding="utf-8"))
    assert len(records) == 1 and records[0]["code"] == "06082.HK" and records[0]["target_price"] == 78.63
    assert records[0]["report_date"].startswith("2026-06-03")


def test_cli_names_option_and_bad_output(tmp_path, make_text):
    report = tmp_path / "r.txt"
    report.write_text(make_text().replace("拓荆科技（688072.SH）", "【新名字】"), encoding="utf-8")
    names = tmp_path / "names.csv"
    names.write_text("code,name\n688072,新名字\n", encoding="utf-8")
    out = tmp_path / "s.csv"
    result = runner.invoke(app, ["ingest", str(report), "--names", str(names), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "688072.SH,新名字" in out.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["ingest", str(report), "-o", str(tmp_path / "s.xlsx"), "-q"])
    assert bad.exit_code != 0


def test_cli_help_teaches():
    result = runner.invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "ratingbt ingest ../shared/seeds -o signals.csv" in result.output


def test_cli_invalid_ratings_dir_names_file(tmp_path, make_text):
    (tmp_path / "ratings").mkdir()
    (tmp_path / "ratings" / "bad.yaml").write_text("broker: X\nstock:\n  bands: {买入: [20, null]}\n", encoding="utf-8")
    report = tmp_path / "r.txt"
    report.write_text(make_text(), encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(report), "--ratings-dir", str(tmp_path / "ratings")],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "bad.yaml" in result.output and "percent" in result.output
