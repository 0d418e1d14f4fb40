"""Small hand-made prices folder and signals table for runner / CLI tests (no network, no shared data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.signals.schema import SIGNAL_COLUMNS

# 40 Shanghai sessions from 2024-03-01 (weekdays without the Qingming holiday 2024-04-04/05)
SESSIONS = pd.bdate_range("2024-03-01", periods=42).drop(pd.to_datetime(["2024-04-04", "2024-04-05"]))


def signal_row(**values) -> dict:
    row = {c: "" for c in SIGNAL_COLUMNS}
    row.update({"kind": "rating", "market": "A", "currency": "CNY", "horizon_months": "1", "benchmark": "000300.SH",
                "date_inferred": False, "report_type": "company"})
    row.update(values)
    return row


@pytest.fixture
def prices_dir(tmp_path):
    folder = tmp_path / "prices"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for stem, base in (("SH600000", 10.0), ("SZ000001", 20.0), ("SH000300", 3500.0)):
        close = (base * np.cumprod(1 + rng.normal(0.001, 0.01, len(SESSIONS)))).round(4)
        open_ = (close * (1 + rng.normal(0, 0.003, len(SESSIONS)))).round(4)
        pd.DataFrame({"date": SESSIONS.strftime("%Y-%m-%d"), "open": open_, "high": np.maximum(open_, close),
                      "low": (np.minimum(open_, close) * 0.995).round(4), "close": close, "volume": 1e6}).to_csv(
            folder / f"{stem}.csv", index=False)
    return folder


@pytest.fixture
def signals_file(tmp_path):
    rows = [
        # published on session 5 (2024-03-07): enter at the 03-08 open, hold one month
        signal_row(signal_id="a", broker="BrokerA", report_date="2024-03-07", code="600000.SH", rating="买入",
                   rating_level=2, action="initiate"),
        # published on a Saturday: enter Monday 03-11; downgraded by the same broker on 03-20 → exit 03-21
        signal_row(signal_id="b", broker="BrokerB", report_date="2024-03-09", code="000001.SZ", rating="增持",
                   rating_level=1, action="reiterate"),
        signal_row(signal_id="c", broker="BrokerB", report_date="2024-03-20", code="000001.SZ", rating="中性",
                   rating_level=0, action="downgrade"),
    ]
    path = tmp_path / "signals.csv"
    pd.DataFrame(rows, columns=SIGNAL_COLUMNS).to_csv(path, index=False)
    return path


@pytest.fixture
def config_file(tmp_path, prices_dir, signals_file):
    def write(extra: str = "", params: str = "{max_weight: 0.5}") -> str:
        path = tmp_path / "bt.yaml"
        path.write_text(f"""
name: test-run
signals: {{file: {signals_file}}}
data: {{providers: [local], prices_dir: {prices_dir}, offline: true}}
strategy: {{name: follow_ratings, params: {params}}}
portfolio: {{cash: 100000, costs: none, rules: {{lots: false}}}}
benchmark: 000300.SH
period: {{start: 2024-03-01}}
{extra}
""", encoding="utf-8")
        return str(path)
    return write
