"""``ratingbt signals import|fetch|status`` on a temporary store (akshare replaced by a fake; no network)."""

from __future__ import annotations

import akshare
import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.signals.feeds.fakes import cninfo_day

runner = CliRunner(env={"COLUMNS": "200"})


def test_import_fetch_status(tmp_path, monkeypatch):
    ratings = tmp_path / "ratings.csv"
    pd.DataFrame({"date": ["2025-03-03", "2025-03-03"], "broker": ["民生证券", "丁证券"],
                  "code": ["600519.SH", "600036.SH"], "rating": ["推荐", "买入"], "analyst": ["张三", "孙七"]}
                 ).to_csv(ratings, index=False)
    imported = runner.invoke(app, ["signals", "import", str(ratings)])
    assert imported.exit_code == 0, imported.output
    assert "2 signals read, 2 new in the store" in imported.output
    again = runner.invoke(app, ["signals", "import", str(ratings)])
    assert "0 new in the store, 2 already there" in again.output

    calls = []

    def fake(date: str) -> pd.DataFrame:
        calls.append(date)
        return cninfo_day(f"{date[:4]}-{date[4:6]}-{date[6:]}")

    monkeypatch.setattr(akshare, "stock_rank_forecast_cninfo", fake)
    args = ["signals", "fetch", "--source", "cninfo", "--start", "2025-03-01", "--end", "2025-03-04",
            "--min-interval", "0"]
    fetched = runner.invoke(app, args)
    assert fetched.exit_code == 0, fetched.output
    assert calls == ["20250303", "20250304"]  # sessions only (03-01/02 are a weekend)
    # 民生证券 · 600519 · 2025-03-03 came from the CSV already: 6 rows read, 5 new
    assert "2 fetched, 0 already done, 0 failed; 6 rows read, 5 new in the store" in fetched.output
    resumed = runner.invoke(app, args)
    assert "0 fetched, 2 already done" in resumed.output and len(calls) == 2

    status = runner.invoke(app, ["signals", "status"])
    assert status.exit_code == 0, status.output
    assert "signals history: 7 rows" in status.output
    assert "feed:cninfo" in status.output and "file:ratings.csv" in status.output


def test_fetch_errors_are_one_line(monkeypatch):
    bad = runner.invoke(app, ["signals", "fetch", "--source", "nope", "--start", "2025-03-03"])
    assert bad.exit_code == 2 and "cninfo" in bad.output
    no_symbol = runner.invoke(app, ["signals", "fetch", "--source", "sina"])
    assert no_symbol.exit_code == 2 and "--symbol" in no_symbol.output

    def changed(date: str) -> pd.DataFrame:
        return cninfo_day("2025-03-03").drop(columns="研究机构简称")

    monkeypatch.setattr(akshare, "stock_rank_forecast_cninfo", changed)
    stopped = runner.invoke(app, ["signals", "fetch", "--source", "cninfo", "--start", "2025-03-03", "--end",
                                  "2025-03-03", "--min-interval", "0"])
    assert stopped.exit_code == 2 and "研究机构简称" in stopped.output and "Traceback" not in stopped.output
