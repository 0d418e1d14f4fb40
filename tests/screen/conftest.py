"""Fixtures for the screen tests: a seed-like signals table and a price panel built from ../shared CSVs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.data.panel import Panel, panel_from_frames
from engine.signals.schema import SIGNAL_COLUMNS, coerce_signals

# report 002 (民生证券, no printed date: prices of 2025-05-06 close → published 2025-05-07, inferred), 推荐 = [0.15, open)
# over 12 months vs CSI 300; report 003 (平安证券(香港)): 06082.HK 强烈推荐 [0.20, open) vs HSI, target 78.63 HKD.
SEED_002 = [
    ("688981.SH", "中芯国际", 89.90), ("688041.SH", "海光信息", 150.01), ("688521.SH", "芯原股份", 91.79),
    ("603063.SH", "禾望电气", 31.90), ("301018.SZ", "申菱环境", 40.60), ("301397.SZ", "溯联股份", 36.95),
    ("688048.SH", "长光华芯", 60.54),
]


def signal_row(**fields) -> dict:
    """One signals-table row with defaults for every column."""
    row = {c: "" for c in SIGNAL_COLUMNS}
    row.update(date_inferred=False, rating_level=np.nan, target_price=np.nan, price_at_report=np.nan,
               price_date=pd.NaT, band_low=np.nan, band_high=np.nan, kind="rating")
    row.update(fields)
    return row


def seed_signals() -> pd.DataFrame:
    """Hand-built signals matching seeds 002 and 003 (what the ingest stage should produce)."""
    rows = [
        signal_row(signal_id=f"002-{code}", source="002", broker="民生证券", report_date="2025-05-07",
                   date_inferred=True, report_type="industry", code=code, name=name, market="A", rating="推荐",
                   rating_level=2.0, price_at_report=price, price_date="2025-05-06", currency="CNY",
                   horizon_months="12", benchmark="000300.SH", band_low=0.15)
        for code, name, price in SEED_002
    ]
    rows.append(signal_row(signal_id="003-06082", source="003", broker="平安证券(香港)", report_date="2026-06-03",
                           report_type="company", code="06082.HK", name="壁仞科技", market="HK", rating="强烈推荐",
                           rating_level=2.0, target_price=78.63, price_at_report=61.65, price_date="2026-06-02",
                           currency="HKD", horizon_months="12", benchmark="HSI", band_low=0.20))
    rows.append(signal_row(signal_id="002-688343", source="002", broker="民生证券", report_date="2025-05-07",
                           code="688343.SH", name="云天励飞", kind="mention", horizon_months="12"))
    return coerce_signals(pd.DataFrame(rows))


def read_price_csv(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, parse_dates=["date"])
    if "raw_close" not in df.columns:  # indexes and HK samples: levels are the traded values
        df["raw_close"] = df["close"]
    return df


def shared_panel(shared: Path, codes: list[str]) -> Panel:
    """Panel of ``codes`` from ../shared/data/prices (file names like SH688981.csv, HKHSI.csv)."""
    frames = {}
    for code in codes:
        if code == "HSI":
            name = "HKHSI.csv"
        elif code.endswith(".HK"):
            name = f"HK{code[:5]}.csv"
        else:
            name = f"{code[-2:]}{code[:6]}.csv"
        path = shared / "data" / "prices" / name
        if path.exists():
            frames[code] = read_price_csv(path)
    return panel_from_frames(frames)


@pytest.fixture
def seed_panel(shared) -> Panel:
    codes = [c for c, _, _ in SEED_002] + ["06082.HK", "000300.SH", "HSI"]
    return shared_panel(shared, codes)
