"""Parity with vectorbt through a config and the CLI, twice with one price cache and two different price folders.

The bug this guards against: the cache keyed bars by code only, so a run on folder B after a run on folder A got A's
bars for the same codes (equity off by 10-28 % from vectorbt). Each run here must match vectorbt computed from the
files of *its own* folder to 1e-9 relative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.signals.schema import REQUIRED_SIGNAL_COLUMNS

vbt = pytest.importorskip("vectorbt")

from engine.data.calendars import sessions as exchange_sessions  # noqa: E402

SESSIONS = exchange_sessions("XSHG", "2024-03-01", "2024-05-31")   # Shanghai sessions (Qingming, May Day off)
CODES = {"SH600000": "600000.SH", "SZ000001": "000001.SZ", "SH600519": "600519.SH"}


def _write_folder(folder, seed: int) -> pd.DataFrame:
    """Per-symbol CSVs (traded = adjusted prices, factor 1) plus CSI 300; returns the stocks' closes."""
    folder.mkdir()
    rng = np.random.default_rng(seed)
    closes = {}
    for stem, base in (*((s, 10.0 + 5 * i) for i, s in enumerate(CODES)), ("SH000300", 3500.0)):
        close = (base * np.cumprod(1 + rng.normal(0.001, 0.02, len(SESSIONS)))).round(2)
        pd.DataFrame({"date": SESSIONS.strftime("%Y-%m-%d"), "open": close, "high": close, "low": close,
                      "close": close, "raw_close": close, "volume": 1e6}).to_csv(folder / f"{stem}.csv", index=False)
        if stem in CODES:
            closes[CODES[stem]] = close
    return pd.DataFrame(closes, index=SESSIONS)


def _weights(tmp_path) -> tuple[pd.DataFrame, object]:
    rng = np.random.default_rng(11)
    rows = SESSIONS[::7]
    w = rng.random((len(rows), len(CODES)))
    w = w / w.sum(axis=1, keepdims=True) * 0.95
    frame = pd.DataFrame(w.round(4), index=rows, columns=list(CODES.values()))
    path = tmp_path / "weights.csv"
    frame.rename_axis("date").reset_index().assign(date=lambda f: f["date"].dt.strftime("%Y-%m-%d")).to_csv(
        path, index=False)
    return frame, path


def _config(tmp_path, name: str, prices, weights_path) -> object:
    signals = tmp_path / "signals.csv"
    if not signals.exists():
        row = {c: "" for c in REQUIRED_SIGNAL_COLUMNS}
        row.update(signal_id="x", broker="B", report_date="2024-03-01", code="600000.SH", kind="rating",
                   market="A", date_inferred="False")
        pd.DataFrame([row]).to_csv(signals, index=False)
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"""
name: {name}
signals: {{file: {signals}}}
data: {{providers: [local], prices_dir: {prices}, offline: true}}
strategy: {{name: target_weights, params: {{path: {weights_path}}}}}
portfolio:
  cash: 1000000
  execution: close
  costs: none
  rules: {{t_plus_one: false, lots: false, limits: false, suspensions: false}}
benchmark: 000300.SH
period: {{start: {SESSIONS[0].date()}, end: {SESSIONS[-1].date()}}}
""", encoding="utf-8")
    return path


def _vectorbt_equity(close: pd.DataFrame, weights: pd.DataFrame) -> np.ndarray:
    size = weights.reindex(close.index)
    pf = vbt.Portfolio.from_orders(close, size=size, size_type="targetpercent", cash_sharing=True, group_by=True,
                                   call_seq="auto", init_cash=1_000_000.0, freq="1D")
    return pf.value().to_numpy()


def test_two_price_folders_one_cache_each_match_vectorbt(tmp_path, monkeypatch):
    monkeypatch.setenv("RATINGBT_CACHE", str(tmp_path / "shared_cache"))   # one cache for both runs
    close_a = _write_folder(tmp_path / "prices_a", seed=1)
    close_b = _write_folder(tmp_path / "prices_b", seed=2)
    assert not np.allclose(close_a.to_numpy(), close_b.to_numpy())
    weights, weights_path = _weights(tmp_path)
    for name, folder, close in (("run_a", "prices_a", close_a), ("run_b", "prices_b", close_b),
                                ("run_a_again", "prices_a", close_a)):
        cfg = _config(tmp_path, name, tmp_path / folder, weights_path)
        result = CliRunner().invoke(app, ["backtest", str(cfg), "-o", str(tmp_path / "runs")])
        assert result.exit_code == 0, result.output
        equity = pd.read_csv(tmp_path / "runs" / name / "equity.csv", parse_dates=["date"]).set_index("date")
        expected = _vectorbt_equity(close, weights)
        np.testing.assert_allclose(equity["equity"].to_numpy(), expected, rtol=1e-9, atol=0,
                                   err_msg=f"{name} (prices from {folder})")
        assert abs(expected[-1] / expected[0] - 1) > 0.01   # the portfolio moved


def test_user_supplied_index_benchmark_runs_end_to_end_and_a_missing_one_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("RATINGBT_CACHE", str(tmp_path / "cache"))
    _write_folder(tmp_path / "prices", seed=3)
    rng = np.random.default_rng(9)
    csi500 = (6000 * np.cumprod(1 + rng.normal(0, 0.01, len(SESSIONS)))).round(2)
    pd.DataFrame({"date": SESSIONS.strftime("%Y-%m-%d"), "open": csi500, "high": csi500, "low": csi500,
                  "close": csi500, "volume": 1e8}).to_csv(tmp_path / "prices" / "SH000905.csv", index=False)
    _, weights_path = _weights(tmp_path)
    cfg = _config(tmp_path, "csi500", tmp_path / "prices", weights_path)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("benchmark: 000300.SH", "benchmark: 000905.SH"),
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["backtest", str(cfg), "-o", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    equity = pd.read_csv(tmp_path / "runs" / "csi500" / "equity.csv")
    # the benchmark column is the user's index scaled to the starting cash
    np.testing.assert_allclose(equity["benchmark"].to_numpy(), csi500 / csi500[0] * 1_000_000, rtol=1e-6)

    missing = tmp_path / "missing.yaml"
    missing.write_text(cfg.read_text(encoding="utf-8").replace("benchmark: 000905.SH", "benchmark: 000852.SH")
                       .replace("name: csi500", "name: csi1000"), encoding="utf-8")
    result = CliRunner().invoke(app, ["backtest", str(missing), "-o", str(tmp_path / "runs")])
    assert result.exit_code != 0
    assert "000852.SH" in result.output and "Traceback" not in result.output
