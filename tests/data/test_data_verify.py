"""Suspect-row rules of ``data verify`` on hand-made bars."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.data.verify import find_suspects, jump_limit
from tests.data.fakes import bars


def _rules(code, df, **kw):
    return [(s.date.date().isoformat(), s.rule) for s in find_suspects(code, df, **kw)]


def test_placeholder_and_zero_volume_rows():
    df = bars(["2026-08-03", "2026-08-04", "2026-08-05", "2026-08-06"], [25000.0, 25852.92, 25900.0, 25950.0],
              volume=[1e9, 0, 1e9, 0])
    df.loc[1, ["open", "high", "low"]] = 25852.92  # O=H=L=C, volume 0
    assert _rules("HSI", df) == [("2026-08-04", "placeholder"), ("2026-08-06", "zero_volume")]


def test_half_day_zero_volume_not_flagged_unless_asked():
    df = bars(["2024-12-23", "2024-12-24", "2024-12-27"], [400.0, 401.0, 402.0], volume=[1e6, 0, 1e6])
    df.loc[1, ["open", "high", "low"]] = 401.0
    assert _rules("00700.HK", df) == []
    assert _rules("00700.HK", df, include_half_days=True) == [("2024-12-24", "half_day")]


def test_jump_beyond_board_limit_only_between_consecutive_sessions():
    # main board: +10% ok, +15% flagged; the 2024-01-08 jump follows a gap (suspension), so it is not flagged
    df = bars(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-08"], [10.0, 11.0, 12.65, 20.0])
    assert _rules("600519.SH", df) == [("2024-01-04", "jump")]
    # ChiNext allows 20 %
    assert _rules("300474.SZ", bars(["2024-01-02", "2024-01-03"], [10.0, 11.9])) == []
    assert jump_limit("300474.SZ", pd.Timestamp("2020-08-21")) == pytest.approx(0.11)  # before the 2020-08-24 reform
    assert jump_limit("688981.SH", pd.Timestamp("2024-01-02")) == pytest.approx(0.21)


def test_bar_on_non_session_day():
    df = bars(["2024-10-01", "2024-10-08"], [10.0, 10.1])  # National Day holiday
    assert _rules("600519.SH", df) == [("2024-10-01", "non_session")]
