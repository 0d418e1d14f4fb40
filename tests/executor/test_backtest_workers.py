"""``ratingbt backtest CONFIG --workers 2`` and ``run_backtest`` on a cluster give the in-process sweep table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.backtest.run import run_backtest
from engine.cli import app
from engine.config import load_backtest_config
from engine.signals.schema import SIGNAL_COLUMNS

SESSIONS = pd.bdate_range("2024-03-01", periods=60).drop(pd.to_datetime(["2024-04-04", "2024-04-05"]))


@pytest.fixture
def sweep_config(tmp_path):
    """Three stocks, a benchmark and four ratings; the config sweeps max_weight × stop_loss × hold_sessions."""
    prices = tmp_path / "prices"
    prices.mkdir()
    rng = np.random.default_rng(11)
    for stem, base in (("SH600000", 10.0), ("SZ000001", 20.0), ("SH600519", 1500.0), ("SH000300", 3500.0)):
        close = (base * np.cumprod(1 + rng.normal(0.001, 0.02, len(SESSIONS)))).round(4)
        open_ = (close * (1 + rng.normal(0, 0.005, len(SESSIONS)))).round(4)
        pd.DataFrame({"date": SESSIONS.strftime("%Y-%m-%d"), "open": open_, "high": np.maximum(open_, close),
                      "low": (np.minimum(open_, close) * 0.99).round(4), "close": close, "volume": 1e6}).to_csv(
            prices / f"{stem}.csv", index=False)
    rows = []
    for i, (code, day) in enumerate((("600000.SH", "2024-03-05"), ("000001.SZ", "2024-03-12"),
                                     ("600519.SH", "2024-03-20"), ("600000.SH", "2024-04-15"))):
        row = {c: "" for c in SIGNAL_COLUMNS}
        row.update(signal_id=f"s{i}", broker="BrokerA", report_date=day, code=code, rating="买入", rating_level=2,
                   kind="rating", market="A", currency="CNY", horizon_months="1", benchmark="000300.SH",
                   date_inferred=False, report_type="company", action="initiate")
        rows.append(row)
    signals = tmp_path / "signals.csv"
    pd.DataFrame(rows, columns=SIGNAL_COLUMNS).to_csv(signals, index=False)
    path = tmp_path / "sweep.yaml"
    path.write_text(f"""
name: sweep-test
signals: {{file: {signals}}}
data: {{providers: [local], prices_dir: {prices}, offline: true}}
strategy: {{name: follow_ratings, params: {{max_weight: [0.3, 0.5, 1.0], stop_loss: [0, 0.03, 0.08],
                                           hold_sessions: [5, 10, 20]}}}}
portfolio: {{cash: 1000000, costs: default}}
benchmark: 000300.SH
period: {{start: 2024-03-01}}
executor: {{chunk_size: 4}}
""", encoding="utf-8")
    return path


def test_run_backtest_on_the_cluster_equals_in_process(sweep_config, cluster, tmp_path):
    cfg = load_backtest_config(sweep_config)
    single = run_backtest(cfg.model_copy(update={"executor": cfg.executor.model_copy(update={"chunk_size": None})}))
    spread = run_backtest(cfg, executor=cluster, sweep_dir=tmp_path / "chunks")
    assert len(single.sweep) == 27 and single.sweep["total_return"].nunique() > 5
    pd.testing.assert_frame_equal(spread.sweep, single.sweep, check_exact=False, rtol=1e-12, atol=1e-12)
    assert not (tmp_path / "chunks").exists()


def test_cli_workers_option_writes_the_same_sweep_csv(sweep_config, tmp_path):
    runner = CliRunner()
    first = runner.invoke(app, ["backtest", str(sweep_config), "-o", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["backtest", str(sweep_config), "-o", str(tmp_path / "b"), "--workers", "2",
                                 "--executor", "processes"])
    assert second.exit_code == 0, second.output
    a = pd.read_csv(tmp_path / "a" / "sweep-test" / "sweep.csv")
    b = pd.read_csv(tmp_path / "b" / "sweep-test" / "sweep.csv")
    pd.testing.assert_frame_equal(a, b)
    assert "sweep: 27 variants" in second.output


def test_cli_rejects_a_bad_executor_value(sweep_config):
    result = CliRunner().invoke(app, ["backtest", str(sweep_config), "--executor", "ray"])
    assert result.exit_code == 2
    assert "error: executor.kind: Input should be 'auto', 'in-process', 'processes' or 'dask'" in " ".join(
        result.output.split())
