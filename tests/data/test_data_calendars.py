"""Calendars: exchange sessions, the combined A+H calendar and the fallback past XSHG's last year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.calendars import calendar_for_codes, early_closes, sessions


def test_xshg_knows_holidays():
    s = sessions("XSHG", "2024-09-30", "2024-10-09")
    assert [d.date().isoformat() for d in s] == ["2024-09-30", "2024-10-08", "2024-10-09"]  # National Day week


def test_a_plus_h_is_union():
    a = sessions("XSHG", "2024-03-25", "2024-04-08")
    h = sessions("XHKG", "2024-03-25", "2024-04-08")
    ah = sessions("A+H", "2024-03-25", "2024-04-08")
    assert pd.Timestamp("2024-04-05") in h and pd.Timestamp("2024-04-05") not in a  # Qingming holiday in SH only
    assert pd.Timestamp("2024-03-29") in a and pd.Timestamp("2024-03-29") not in h  # Good Friday: SH open
    assert pd.Timestamp("2024-04-04") not in ah  # closed in both
    assert list(ah) == sorted(set(a) | set(h))


def test_fallback_past_xshg_end_uses_data_sessions():
    data = pd.to_datetime(["2026-12-30", "2026-12-31", "2027-01-04", "2027-01-05", "2027-02-01"])
    s = sessions("XSHG", "2026-12-28", "2027-01-31", data_sessions=data)
    assert [d.date().isoformat() for d in s] == ["2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31",
                                                 "2027-01-04", "2027-01-05"]
    # without data past the end, the calendar part alone is returned instead of raising
    assert len(sessions("XSHG", "2026-12-28", "2027-03-01")) == 4


def test_data_calendar_and_errors():
    data = pd.to_datetime(["2024-01-03", "2024-01-02"])
    assert list(sessions("data", None, None, data_sessions=data)) == list(pd.to_datetime(["2024-01-02",
                                                                                          "2024-01-03"]))
    with pytest.raises(ValueError, match="allowed: XSHG, XHKG, A\\+H, data"):
        sessions("NYSE", "2024-01-01", "2024-01-31")


def test_calendar_for_codes_and_early_closes():
    assert calendar_for_codes(["300474", "000300.SH"]) == "XSHG"
    assert calendar_for_codes(["0700.HK", "HSI"]) == "XHKG"
    assert calendar_for_codes(["300474", "HSI"]) == "A+H"
    assert pd.Timestamp("2024-12-24") in early_closes("XHKG", "2024-12-01", "2024-12-31")


@pytest.mark.parametrize("name", ["XSHG", "XHKG"])
def test_stored_calendar_answers_as_exchange_calendars(name, tmp_path, monkeypatch):
    """The copy kept in the cache folder gives the sessions, bounds and half days exchange_calendars gives."""
    import exchange_calendars as xcals

    from engine.data import calendars

    monkeypatch.setenv("RATINGBT_CACHE", str(tmp_path))
    with calendars._quiet():  # exchange_calendars' own pandas deprecation warnings
        live = xcals.get_calendar(name)
    assert calendars.StoredCalendar.load(name) is None
    calendars.StoredCalendar.save(name, live)
    stored = calendars.StoredCalendar.load(name)
    assert stored is not None and len(list((tmp_path / "calendars").glob(f"{name}-*.npz"))) == 1
    assert stored.first_session == live.first_session and stored.last_session == live.last_session
    for lo, hi in (("2024-01-01", "2024-12-31"), ("2025-02-03", "2025-02-03"), ("2025-10-01", "2025-10-08"),
                   (str(live.first_session.date()), str(live.last_session.date()))):
        np.testing.assert_array_equal(stored.sessions_in_range(lo, hi).to_numpy(),
                                      live.sessions_in_range(lo, hi).tz_localize(None).to_numpy()
                                      if live.sessions_in_range(lo, hi).tz is not None
                                      else live.sessions_in_range(lo, hi).to_numpy())
    np.testing.assert_array_equal(stored.early_closes.to_numpy(), pd.DatetimeIndex(live.early_closes).to_numpy())
    # a damaged copy is rebuilt, not trusted
    next((tmp_path / "calendars").glob(f"{name}-*.npz")).write_bytes(b"broken")
    assert calendars.StoredCalendar.load(name) is None
    calendars._calendar.cache_clear()
    try:
        assert calendars.exchange_calendar(name).last_session == live.last_session
        assert calendars.StoredCalendar.load(name) is not None  # kept again for the next process
    finally:
        calendars._calendar.cache_clear()
