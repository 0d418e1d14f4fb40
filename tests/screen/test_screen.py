"""Tests of engine.screen: live picks at an as-of date, returns so far, band status, staleness, no-price picks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.panel import panel_from_frames
from engine.screen import (SCREEN_COLUMNS, band_status, horizon_end_date, horizon_long_months, returns_so_far,
                           screen_signals)
from tests.screen.conftest import SEED_002, seed_signals, signal_row
from engine.signals.schema import coerce_signals


def test_returns_so_far_hand(seed_panel):
    """688981.SH from report 002, hand-computed from the CSV rows of ../shared/data/prices.

    SH688981.csv  2025-05-07 close 90.5 (base: the inferred publication date is a session)
                  2026-02-27 close 115.0, raw_close 115.0
    SH000300.csv  2025-05-07 close 3831.627 ; 2026-02-27 close 4710.647
    stock  = 115.0 / 90.5 - 1         = 0.270718232044199
    bench  = 4710.647 / 3831.627 - 1  = 0.2294116833397406
    excess = 0.270718232 - 0.229411683 = 0.04130654870445838  → below the 推荐 band [0.15, open)
    needed = 0.15 - 0.0413065487      = 0.10869345129554162
    """
    got = returns_so_far(seed_panel, "688981.SH", "000300.SH", pd.Timestamp("2025-05-07"), pd.Timestamp("2026-02-27"))
    assert got["base_date"] == pd.Timestamp("2025-05-07")
    assert got["price_date"] == pd.Timestamp("2026-02-27")
    assert got["price_then"] == pytest.approx(90.5) and got["price_now"] == pytest.approx(115.0)
    assert got["stock_return"] == pytest.approx(0.270718232044199, abs=1e-12)
    assert got["benchmark_return"] == pytest.approx(0.2294116833397406, abs=1e-12)
    assert got["excess_return"] == pytest.approx(0.04130654870445838, abs=1e-12)
    assert got["note"] == ""
    # a base date that is not a session (Sunday 2025-05-11) uses the close of Friday 2025-05-09
    sunday = returns_so_far(seed_panel, "688981.SH", "000300.SH", pd.Timestamp("2025-05-11"),
                            pd.Timestamp("2026-02-27"))
    assert sunday["base_date"] == pd.Timestamp("2025-05-09")


def test_screen_as_of_2026_02_27(shared, seed_panel):
    table = screen_signals(seed_signals(), seed_panel, as_of="2026-02-27")
    assert list(table.columns) == SCREEN_COLUMNS
    # the seven rated 002 picks are live (horizon ends 2026-05-07); the mention and the 2026 HK report are not listed
    assert sorted(table["code"]) == sorted(c for c, _, _ in SEED_002)
    row = table.set_index("code").loc["688981.SH"]
    assert row["status"] == "below"
    assert row["excess_needed"] == pytest.approx(0.10869345129554162, abs=1e-12)
    assert row["note"] == ""
    assert row["horizon_end"] == pd.Timestamp("2026-05-07")
    assert row["price_then"] == pytest.approx(90.5)
    # sessions counted on the CSI 300 file (which has every session): (2025-05-07, 2026-02-27] and after as-of
    csi = pd.read_csv(shared / "data" / "prices" / "SH000300.csv", parse_dates=["date"])["date"]
    assert row["sessions_elapsed"] == ((csi > "2025-05-07") & (csi <= "2026-02-27")).sum()
    assert row["sessions_left"] == ((csi > "2026-02-27") & (csi <= "2026-05-07")).sum()
    # one broker covers each stock, consensus = its level
    assert row["n_brokers"] == 1 and row["consensus_level"] == 2.0
    # picks whose files end on 2026-01-23 are stale with that date; their window stops there for both legs
    stale = table.set_index("code").loc["688048.SH"]
    assert stale["note"] == "stale (last price 2026-01-23)"
    # SH688048 60.67 → 124.88, CSI 300 3831.627 → 4702.497 (2026-01-23): excess = 1.058348... - 0.227278...
    assert stale["excess_return"] == pytest.approx((124.88 / 60.67 - 1) - (4702.497 / 3831.627 - 1), abs=1e-12)
    assert stale["status"] == "inside"  # open top end: far above 15 % is still inside [0.15, open)
    for code in ("688521.SH", "301018.SZ", "301397.SZ"):
        assert table.set_index("code").loc[code, "note"] == "stale (last price 2026-01-23)"
    assert table.set_index("code").loc["688041.SH", "note"] == ""
    assert set(table["status"]) <= {"inside", "above", "below"}


def test_screen_as_of_2026_06_30_lists_hk_pick_without_prices(seed_panel):
    table = screen_signals(seed_signals(), seed_panel, as_of="2026-06-30")
    # 002's horizons ended on 2026-05-07; 003's 06082.HK is live and has no offline prices
    assert list(table["code"]) == ["06082.HK"]
    row = table.iloc[0]
    assert row["note"] == "no price data"
    assert row["status"] == "" and np.isnan(row["excess_return"]) and np.isnan(row["upside_left"])
    assert row["target_price"] == 78.63 and row["benchmark"] == "HSI"
    assert row["horizon_end"] == pd.Timestamp("2027-06-03")


def _toy_panel():
    dates = pd.bdate_range("2025-01-01", periods=6)  # Wed 1 .. Wed 8 Jan
    stock = pd.DataFrame({"date": dates, "close": [10, 11, 12, 12.5, 13, 14.0],
                          "raw_close": [20, 22, 24, 25, 26, 28.0], "volume": 1.0})
    bench = pd.DataFrame({"date": dates, "close": [100, 101, 102, 103, 104, 105.0], "volume": 1.0})
    return panel_from_frames({"600000.SH": stock, "000300.SH": bench})


def _toy_signals(**over):
    base = dict(signal_id="a", broker="甲证券", report_date="2025-01-02", code="600000.SH", name="浦发",
                market="A", rating="买入", rating_level=2.0, horizon_months="6", benchmark="000300.SH",
                band_low=0.05, band_high=0.20, target_price=30.8, currency="CNY")
    base.update(over)
    return signal_row(**base)


def test_superseded_coverage_consensus_and_upside():
    rows = [
        _toy_signals(signal_id="old", report_date="2025-01-01", rating="增持", rating_level=1.0),
        _toy_signals(signal_id="new"),
        _toy_signals(signal_id="other", broker="乙证券", rating="中性", rating_level=0.0, band_low=-0.05,
                     band_high=0.05, target_price=np.nan),
        _toy_signals(signal_id="future", broker="丙证券", report_date="2025-01-09"),  # after as-of: invisible
    ]
    signals = coerce_signals(pd.DataFrame(rows))
    table = screen_signals(signals, _toy_panel(), as_of="2025-01-08")
    assert sorted(table["signal_id"]) == ["new", "other"]
    new = table.set_index("signal_id").loc["new"]
    # base 2025-01-02 close 11, now 2025-01-08 close 14 → 14/11-1 = 0.272727; bench 105/101-1 = 0.039604
    assert new["excess_return"] == pytest.approx(14 / 11 - 1 - (105 / 101 - 1), abs=1e-12)
    assert new["status"] == "above"  # 0.2331 > band_high 0.20
    assert new["upside_left"] == pytest.approx(30.8 / 28.0 - 1, abs=1e-12)  # raw price now 28
    assert new["price_then"] == 22.0
    assert new["n_brokers"] == 2 and new["consensus_level"] == pytest.approx(1.0)  # mean(2, 0)
    other = table.set_index("signal_id").loc["other"]
    assert other["status"] == "above"
    with_old = screen_signals(signals, _toy_panel(), as_of="2025-01-08", include_superseded=True)
    assert with_old.set_index("signal_id").loc["old", "superseded"]
    # filters and sorting
    assert list(screen_signals(signals, _toy_panel(), as_of="2025-01-08", brokers=["乙证券"])["signal_id"]) == ["other"]
    assert screen_signals(signals, _toy_panel(), as_of="2025-01-08", markets=["HK"]).empty
    by_level = screen_signals(signals, _toy_panel(), as_of="2025-01-08", sort="rating_level", descending=True)
    assert list(by_level["signal_id"]) == ["new", "other"]
    with pytest.raises(ValueError, match="unknown sort column 'nope'"):
        screen_signals(signals, _toy_panel(), sort="nope")


def test_default_as_of_is_last_session_and_expired_picks_drop():
    signals = coerce_signals(pd.DataFrame([_toy_signals(horizon_months="6-12")]))
    table = screen_signals(signals, _toy_panel())
    assert table.iloc[0]["price_date"] == pd.Timestamp("2025-01-08") and table.iloc[0]["note"] == ""
    assert table.iloc[0]["horizon_end"] == pd.Timestamp("2026-01-02")  # long end of "6-12"
    assert screen_signals(signals, _toy_panel(), as_of="2026-01-03").empty


def test_horizon_parsing_and_band_status():
    assert horizon_long_months("12") == 12 and horizon_long_months("6-12") == 12 and horizon_long_months(6.0) == 6
    assert horizon_end_date(pd.Timestamp("2025-08-31"), "6") == pd.Timestamp("2026-02-28")
    with pytest.raises(ValueError, match="'soon'"):
        horizon_long_months("soon")
    assert band_status(0.10, 0.15, np.nan) == ("below", pytest.approx(0.05))
    assert band_status(0.15, 0.15, np.nan) == ("inside", 0.0)
    assert band_status(0.20, -0.05, 0.20) == ("inside", 0.0)  # both ends inclusive, as the scorer's hit
    assert band_status(0.2001, -0.05, 0.20) == ("above", 0.0)
    assert band_status(-0.30, np.nan, -0.05) == ("inside", 0.0)
    assert band_status(np.nan, 0.1, 0.2)[0] == ""


def test_missing_or_bad_horizon_is_listed_with_a_note():
    signals = coerce_signals(pd.DataFrame([
        _toy_signals(signal_id="x9", horizon_months="long"),
        _toy_signals(signal_id="x0", broker="乙证券", horizon_months=""),
        _toy_signals(signal_id="ok", broker="丙证券"),
    ]))
    table = screen_signals(signals, _toy_panel(), as_of="2025-01-08").set_index("signal_id")
    assert table.loc["x9", "note"] == "horizon 'long' not understood" and pd.isna(table.loc["x9", "horizon_end"])
    assert table.loc["x0", "note"] == "horizon unknown: 12 months assumed"
    assert table.loc["x0", "horizon_end"] == pd.Timestamp("2026-01-02")
    assert table.loc["ok", "note"] == ""
    # the prices are still read for all three (same pick, same numbers)
    assert table["excess_return"].nunique() == 1


def _pandas_reference(close: pd.DataFrame, code: str, bench: str, report_date, as_of) -> tuple[float, float, str]:
    """Plain-pandas returns so far with the scoring stage's conventions.

    base session = last panel session on or before the publication date; each series valued at its last close on or
    before it. End = the last session on or before as-of that *both* series have reached (so far), each valued at
    its last close on or before it. A stock without a bar from the base session on → no price data."""
    if code not in close or bench not in close:
        return np.nan, np.nan, "no price data"
    upto = close.loc[:as_of]
    base_session = close.index[close.index <= report_date]
    if base_session.empty:
        return np.nan, np.nan, "no price data"
    base_session = base_session[-1]
    stock, index = upto[code].dropna(), upto[bench].dropna()
    if stock.loc[:base_session].empty or index.loc[:base_session].empty or stock.loc[base_session:].empty:
        return np.nan, np.nan, "no price data"
    end = min(stock.index[-1], index.index[-1])
    stock_return = stock.loc[:end].iloc[-1] / stock.loc[:base_session].iloc[-1] - 1
    bench_return = index.loc[:end].iloc[-1] / index.loc[:base_session].iloc[-1] - 1
    price_date = stock.loc[:end].index[-1]
    last_session = upto.index[-1]
    if price_date >= last_session:
        note = ""
    elif stock.index[-1] >= last_session:
        note = f"stale (last benchmark level {price_date:%Y-%m-%d})"
    else:
        note = f"stale (last price {price_date:%Y-%m-%d})"
    return stock_return, stock_return - bench_return, note


def test_vectorised_screen_equals_pandas_reference_on_random_panel():
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2024-01-01", periods=120)
    codes = [f"60000{i}.SH" for i in range(6)]
    frames = {}
    for i, code in enumerate(codes):
        close = 10 * np.cumprod(1 + rng.normal(0, 0.02, len(dates)))
        close[rng.random(len(dates)) < 0.15] = np.nan  # suspensions
        if i == 1:
            close[90:] = np.nan  # data ends early: stale
        if i == 2:
            close[:60] = np.nan  # listed late: no base for early reports
        frames[code] = pd.DataFrame({"date": dates, "close": close, "raw_close": close * 1.1, "volume": 1.0})
    bench = 3000 * np.cumprod(1 + rng.normal(0, 0.01, len(dates)))
    bench[rng.random(len(dates)) < 0.1] = np.nan
    frames["000300.SH"] = pd.DataFrame({"date": dates, "close": bench, "volume": 1.0})
    panel = panel_from_frames(frames)
    report_dates = pd.to_datetime(rng.choice(pd.date_range("2023-12-25", "2024-06-10").to_numpy(), 40))
    rows = [_toy_signals(signal_id=f"s{k}", broker=f"b{k}", code=codes[k % 6] if k != 39 else "600999.SH",
                         report_date=d, horizon_months="12") for k, d in enumerate(report_dates)]
    as_of = pd.Timestamp("2024-06-14")
    table = screen_signals(coerce_signals(pd.DataFrame(rows)), panel, as_of=as_of).set_index("signal_id")
    close = panel.frame("close")
    for k, d in enumerate(report_dates):
        if d > as_of:
            assert f"s{k}" not in table.index
            continue
        row = table.loc[f"s{k}"]
        stock, excess, note = _pandas_reference(close, row["code"], "000300.SH", d, as_of)
        assert row["note"] == note
        np.testing.assert_allclose([row["stock_return"], row["excess_return"]], [stock, excess], atol=1e-12)
    # the draw covers the cases the reference distinguishes: fresh, stale and no price data
    notes = set(table["note"])
    assert "" in notes and "no price data" in notes and any(n.startswith("stale") for n in notes), notes


def test_count_sessions_inside_and_past_the_calendar():
    from engine.screen import count_sessions

    after = pd.Series(pd.to_datetime(["2025-09-30", "2026-12-30", None, "2026-03-02"]))
    through = pd.Series(pd.to_datetime(["2025-10-09", "2027-01-08", "2026-01-01", "2026-03-02"]))
    # XSHG: National Day week 2025-10-01..08 is closed → only 2025-10-09 in (09-30, 10-09].
    # Past XSHG's last session 2026-12-31: 12-31 (1 session) + weekdays 2027-01-01, 04..08 (6) = 7 (estimate).
    assert count_sessions("A", after, through).tolist() == [1, 7, 0, 0]


def test_stale_benchmark_and_non_session_as_of():
    dates = pd.bdate_range("2025-01-02", periods=5)  # Thu 2 .. Wed 8 Jan
    stock = pd.DataFrame({"date": dates, "close": [10, 11, 12, 13, 14.0], "raw_close": [10, 11, 12, 13, 14.0],
                          "volume": 1.0})
    bench = pd.DataFrame({"date": dates[:4], "close": [100, 101, 102, 104.0], "volume": 1.0})  # no level on Jan 8
    panel = panel_from_frames({"600000.SH": stock, "000300.SH": bench})
    signals = coerce_signals(pd.DataFrame([_toy_signals(report_date="2025-01-02")]))
    row = screen_signals(signals, panel, as_of="2025-01-08").iloc[0]
    # so far = up to Jan 7, the last session both have: stock 13/10-1 = 0.30, benchmark 104/100-1 = 0.04
    assert row["note"] == "stale (last benchmark level 2025-01-07)"
    assert row["excess_return"] == pytest.approx(0.30 - 0.04, abs=1e-12)
    # a Saturday as-of date is not "stale" for a stock that traded on Friday
    fresh = panel_from_frames({"600000.SH": stock.iloc[:3], "000300.SH": bench.iloc[:3]})  # to Mon 6 Jan
    weekend = coerce_signals(pd.DataFrame([_toy_signals(report_date="2025-01-02")]))
    row = screen_signals(weekend, fresh, as_of="2025-01-05").iloc[0]  # Sunday: last session Fri 3 Jan
    assert row["note"] == "" and row["price_date"] == pd.Timestamp("2025-01-03")


def test_screen_ignores_prices_and_reports_after_as_of():
    """Screening at 2025-01-06 (row 3 of the toy panel): prices after it are perturbed by a non-constant factor and
    a newer rating by the same broker is published after it. Nothing in the table changes: the later report neither
    supersedes the current one nor counts in the coverage, and returns stop at 2025-01-06."""
    rows = [_toy_signals(signal_id="cur"), _toy_signals(signal_id="later", report_date="2025-01-07",
                                                        rating="中性", rating_level=0.0)]
    signals = coerce_signals(pd.DataFrame(rows))
    panel = _toy_panel()
    before = screen_signals(signals, panel, as_of="2025-01-06")
    factor = np.linspace(0.4, 2.5, 2)[:, None]            # rows 4, 5 (2025-01-07, 2025-01-08)
    for name in ("open", "high", "low", "close", "raw_close"):
        getattr(panel, name)[4:] = getattr(panel, name)[4:] * factor
    after = screen_signals(signals, panel, as_of="2025-01-06")
    pd.testing.assert_frame_equal(before, after)
    row = before.iloc[0]
    assert list(before["signal_id"]) == ["cur"] and not row["superseded"] and row["n_brokers"] == 1
    # base 2025-01-02 close 11 (raw 22), now 2025-01-06 close 12.5 (raw 25); CSI 101 → 103
    assert row["price_date"] == pd.Timestamp("2025-01-06") and (row["price_then"], row["price_now"]) == (22.0, 25.0)
    assert row["excess_return"] == pytest.approx((12.5 / 11 - 1) - (103 / 101 - 1), abs=1e-12)
    assert row["upside_left"] == pytest.approx(30.8 / 25.0 - 1, abs=1e-12)
    # XSHG sessions in (2025-01-02, 2025-01-06]: Fri 3 and Mon 6 January
    assert row["sessions_elapsed"] == 2
    # without the as-of date the newer report is the current one and the perturbed prices are read
    latest = screen_signals(signals, panel)
    assert list(latest["signal_id"]) == ["later"] and latest.iloc[0]["price_now"] != 28.0


def test_rating_without_a_security_code_is_listed_not_dropped():
    """A rated stock the ingest step could not resolve (empty code) is listed with the note "no security code";
    supersession and coverage use its name, so two unresolved names stay two picks."""
    rows = [_toy_signals(signal_id="ok"),
            _toy_signals(signal_id="n1", code="", name="某某科技", market=""),
            _toy_signals(signal_id="n2", code="", name="另一公司", market="")]
    table = screen_signals(coerce_signals(pd.DataFrame(rows)), _toy_panel(), as_of="2025-01-08").set_index("signal_id")
    assert sorted(table.index) == ["n1", "n2", "ok"]
    for sid in ("n1", "n2"):
        assert table.loc[sid, "note"] == "no security code" and np.isnan(table.loc[sid, "excess_return"])
        assert not table.loc[sid, "superseded"] and table.loc[sid, "n_brokers"] == 1
    assert table.loc["ok", "note"] == ""
