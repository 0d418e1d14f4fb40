"""CNINFO feed with fakes of ``stock_rank_forecast_cninfo``: conversion, empty day, changed column, a day that fails
then succeeds, a resumed download, rate limit, de-duplication against a ratings CSV in the store."""

from __future__ import annotations

import akshare
import numpy as np
import pandas as pd
import pytest

from engine.data.store import open_store
from engine.signals.feeds import CninfoFeed, FeedState, run_feed, state_path
from tests.signals.feeds.fakes import cninfo_day

DAYS = ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06"]


class Clock:
    """Fake monotonic clock advanced by the fake sleep; records every sleep."""

    def __init__(self):
        self.now, self.sleeps = 100.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def _sink(store):
    return lambda frame, source: store.add_signals(frame, source)


def test_conversion_keeps_analyst_previous_rating_and_target_range():
    frame = CninfoFeed(fetch_day=cninfo_day).convert(cninfo_day("2025-03-03"), "2025-03-03")
    rows = frame.set_index("code")
    assert len(frame) == 3 and (frame["report_date"] == pd.Timestamp("2025-03-03")).all()
    moutai = rows.loc["600519.SH"]
    assert (moutai["broker"], moutai["rating"], moutai["action"]) == ("民生证券", "推荐", "reiterate")
    assert (moutai["target_low"], moutai["target_high"], moutai["target_price"]) == (1900.0, 2100.0, 2000.0)
    assert moutai["previous_rating"] == "推荐" and moutai["analysts"] == "张三;李四"
    assert moutai["band_low"] == 0.15 and moutai["rating_level"] == 2  # 民生证券's registry scale judges it
    assert rows.loc["300474.SZ", "action"] == "initiate" and rows.loc["300474.SZ", "target_low"] == 95.5
    assert rows.loc["000001.SZ", "action"] == "upgrade" and np.isnan(rows.loc["000001.SZ", "target_price"])


def test_empty_day_from_akshare_is_a_finished_day_with_no_rows(monkeypatch, tmp_path):
    def fake(date: str) -> pd.DataFrame:
        if date == "20250304":  # what akshare does on a day without records
            raise ValueError("Length mismatch: Expected axis has 0 elements, new values have 11 elements")
        return cninfo_day(f"{date[:4]}-{date[4:6]}-{date[6:]}")

    monkeypatch.setattr(akshare, "stock_rank_forecast_cninfo", fake)
    store = open_store(tmp_path)
    report = run_feed(CninfoFeed(), DAYS[:2], _sink(store), cache_dir=tmp_path, min_interval=0)
    assert report.fetched == DAYS[:2] and report.rows == 3 and report.ok
    state = FeedState.load(state_path(tmp_path, "cninfo"))
    assert state.done["2025-03-04"]["rows"] == 0


def test_changed_column_stops_with_the_column_named(tmp_path):
    calls = []

    def fake(day: str) -> pd.DataFrame:
        calls.append(day)
        frame = cninfo_day(day)
        return frame.rename(columns={"投资评级": "评级"}) if day == "2025-03-04" else frame

    report = run_feed(CninfoFeed(fetch_day=fake), DAYS, _sink(open_store(tmp_path)), cache_dir=tmp_path,
                      min_interval=0, retries=3)
    assert "投资评级" in report.stopped and "2025-03-04" in report.stopped
    assert calls == DAYS[:2]  # not retried, and the later days are not asked: every one would fail the same way
    state = FeedState.load(state_path(tmp_path, "cninfo"))
    assert list(state.done) == ["2025-03-03"] and "2025-03-04" in state.failed


def test_day_that_fails_then_succeeds_and_a_resumed_download(tmp_path):
    calls: list[str] = []
    flaky = {"2025-03-05": 1}  # fails once, then answers

    def fake(day: str) -> pd.DataFrame:
        calls.append(day)
        if flaky.get(day, 0) > 0:
            flaky[day] -= 1
            raise ConnectionError("connection reset by peer")
        return cninfo_day(day)

    clock = Clock()
    store = open_store(tmp_path)
    first = run_feed(CninfoFeed(fetch_day=fake), DAYS[:3], _sink(store), cache_dir=tmp_path, min_interval=1.0,
                     retries=2, backoff=1.0, sleep=clock.sleep, clock=clock)
    assert first.ok and first.fetched == DAYS[:3] and calls == DAYS[:2] + ["2025-03-05", "2025-03-05"]
    assert 1.0 in clock.sleeps  # the back-off before the retry
    assert first.new_rows == 9
    # rate limit: no two calls closer than min_interval on the fake clock
    assert all(s > 0 for s in clock.sleeps)

    calls.clear()
    second = run_feed(CninfoFeed(fetch_day=fake), DAYS, _sink(store), cache_dir=tmp_path, min_interval=0)
    assert second.skipped == DAYS[:3] and calls == ["2025-03-06"]  # finished days are not fetched again
    assert second.new_rows == 3
    with store:
        assert len(store.signals(sources=["feed:cninfo"])) == 12


def test_day_failing_every_attempt_is_retried_next_run(tmp_path):
    def down(day: str) -> pd.DataFrame:
        raise TimeoutError("timed out")

    store = open_store(tmp_path)
    report = run_feed(CninfoFeed(fetch_day=down), DAYS[:1], _sink(store), cache_dir=tmp_path, min_interval=0,
                      retries=1, sleep=lambda s: None)
    assert report.failed == {"2025-03-03": "TimeoutError: timed out"} and not report.ok
    again = run_feed(CninfoFeed(fetch_day=cninfo_day), DAYS[:1], _sink(store), cache_dir=tmp_path, min_interval=0)
    assert again.fetched == DAYS[:1] and FeedState.load(state_path(tmp_path, "cninfo")).failed == {}


def test_rows_already_in_the_store_from_a_csv_are_not_added_twice(tmp_path):
    feed = CninfoFeed(fetch_day=cninfo_day)
    store = open_store(tmp_path)
    from_csv = feed.convert(cninfo_day("2025-03-03"), "2025-03-03").iloc[:1]
    assert store.add_signals(from_csv, "file:ratings.csv") == 1
    report = run_feed(feed, DAYS[:1], _sink(store), cache_dir=tmp_path, min_interval=0)
    assert report.rows == 3 and report.new_rows == 2
    with store:
        hist = store.signals()
    assert len(hist) == 3 and (hist["history_source"] == "file:ratings.csv").sum() == 1
