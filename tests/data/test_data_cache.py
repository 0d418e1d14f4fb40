"""The cache: round trip, validation, corrupt files, manifest repair, missing ranges, incremental and offline fetch."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from engine.data.bars import BarsInvalidError
from engine.data.cache import PriceCache, merge_bars, missing_ranges, union_ranges
from engine.data.chain import ChainSettings, ProviderChain
from engine.data.fetch import ensure_cached
from tests.data.fakes import ScriptedProvider, bars

D = dt.date


def _rows(root, sql, params=()):
    from engine.data.store import Store

    with Store(root).session() as con:
        return con.execute(sql, list(params)).fetchall()


def test_round_trip_and_store_tables(tmp_path):
    c = PriceCache(tmp_path)
    df = bars(["2024-01-02", "2024-01-03"], [10.0, 11.0])
    entry = c.write("300474.SZ", df, covered=[(D(2024, 1, 1), D(2024, 1, 5))], source="local")
    assert entry["first"] == "2024-01-02" and entry["last"] == "2024-01-03" and entry["rows"] == 2
    pd.testing.assert_frame_equal(c.read("300474.SZ"), df)
    assert (tmp_path / "ratingbt.duckdb").is_file() and not (tmp_path / "manifest.json").exists()
    assert _rows(tmp_path, 'SELECT origin, start, "end" FROM coverage') == [("net", D(2024, 1, 1), D(2024, 1, 5))]
    assert _rows(tmp_path, "SELECT code, origin, source FROM updates") == [("300474.SZ", "net", "local")]
    assert c.entry("300474.SZ")["covered"] == [["2024-01-01", "2024-01-05"]]
    assert c.read("300474.SZ", start="2024-01-03")["close"].tolist() == [11.0]
    assert PriceCache(tmp_path).codes() == ["300474.SZ"]  # another handle on the same store sees it


@pytest.mark.parametrize("mutate,rule", [
    (lambda d: d.assign(date=d["date"].iloc[::-1].to_numpy()), "unsorted"),
    (lambda d: d.assign(date=[d["date"].iloc[0]] * 2), "duplicate_date"),
    (lambda d: d.assign(close=[10.0, -1.0]), "price"),
    (lambda d: d.assign(high=[9.0, 11.2]), "high"),
    (lambda d: d.assign(low=[10.5, 10.8]), "low"),
])
def test_write_validates(tmp_path, mutate, rule):
    df = mutate(bars(["2024-01-02", "2024-01-03"], [10.0, 11.0]))
    with pytest.raises(BarsInvalidError, match=rule):
        PriceCache(tmp_path).write("300474.SZ", df, covered=[], source="t")
    assert _rows(tmp_path, "SELECT count(*) FROM bars") == [(0,)]


def test_a_failing_write_leaves_the_previous_rows(tmp_path, monkeypatch):
    """One transaction per write: an error half way (after the old rows were deleted) rolls everything back."""
    import engine.data.cache as cache_mod

    c = PriceCache(tmp_path)
    old = bars(["2024-01-02", "2024-01-03"], [10.0, 11.0])
    c.write("300474.SZ", old, covered=[(D(2024, 1, 2), D(2024, 1, 3))], source="t")

    def broken(code, origin, frame):
        raise OSError("disk full")

    monkeypatch.setattr(cache_mod, "_db_frame", broken)
    with pytest.raises(OSError, match="disk full"):
        c.write("300474.SZ", bars(["2024-01-04"], [12.0]), covered=[(D(2024, 1, 4), D(2024, 1, 4))], source="t")
    monkeypatch.undo()
    pd.testing.assert_frame_equal(PriceCache(tmp_path).read("300474.SZ"), old)
    assert PriceCache(tmp_path).covered("300474.SZ") == [(D(2024, 1, 2), D(2024, 1, 3))]


def test_a_corrupt_store_file_is_an_error_naming_it(tmp_path):
    from engine.data.store import StoreError

    (tmp_path / "ratingbt.duckdb").write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="ratingbt.duckdb"):
        PriceCache(tmp_path).codes()


def test_old_cache_layout_is_migrated_once_with_a_note(tmp_path, capsys):
    """bars/*.parquet + manifest.json: provider rows, their coverage and the failures move into the store; rows
    read from local files do not (the file is not known); the old files are renamed so it happens once."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "bars").mkdir()
    net = bars(["2024-01-02", "2024-01-03"], [10.0, 11.0], source="akshare")
    mixed = pd.concat([bars(["2024-01-02"], [5.0], source="local:SZ000001.csv"),
                       bars(["2024-01-03"], [5.5], source="akshare")], ignore_index=True)
    for code, df, cov in (("300474.SZ", net, [["2024-01-01", "2024-01-05"]]),
                          ("000001.SZ", mixed, [["2024-01-02", "2024-01-03"]])):
        entry = {"code": code, "covered": cov, "rows": len(df), "source": "akshare"}
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.replace_schema_metadata({**table.schema.metadata, b"ratingbt": json.dumps(entry).encode()})
        pq.write_table(table, tmp_path / "bars" / f"{code}.parquet")
    (tmp_path / "bars" / "688041.SH.parquet").write_bytes(b"torn")
    failure = {"start": "2026-06-01", "end": "2026-06-30", "at": "2026-11-28T00:00:00+00:00", "error": "none",
               "providers": ["akshare"]}
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 1, "symbols": {},
                                                        "failures": {"06082.HK": [failure]}}))
    c = PriceCache(tmp_path)
    pd.testing.assert_frame_equal(c.read("300474.SZ"), net)
    assert c.covered("300474.SZ") == [(D(2024, 1, 1), D(2024, 1, 5))]
    assert c.read("000001.SZ")["source"].tolist() == ["akshare"]  # the local row is not carried over
    assert c.covered("000001.SZ") == []  # so its range is asked again
    assert c._failures_of("06082.HK")[0]["error"] == "none"
    note = capsys.readouterr().err
    assert "migrated the old cache" in note and "1 unreadable file(s) skipped: 688041.SH" in note
    assert (tmp_path / "bars.migrated").is_dir() and (tmp_path / "manifest.json.migrated").is_file()
    assert not (tmp_path / "bars").exists()
    PriceCache(tmp_path).codes()
    assert "migrated" not in capsys.readouterr().err  # once


def test_missing_and_union_ranges():
    cov = [(D(2024, 1, 1), D(2024, 1, 10)), (D(2024, 1, 11), D(2024, 1, 20)), (D(2024, 2, 1), D(2024, 2, 5))]
    assert union_ranges(cov) == [(D(2024, 1, 1), D(2024, 1, 20)), (D(2024, 2, 1), D(2024, 2, 5))]
    assert missing_ranges(cov, D(2023, 12, 30), D(2024, 2, 10)) == [
        (D(2023, 12, 30), D(2023, 12, 31)), (D(2024, 1, 21), D(2024, 1, 31)), (D(2024, 2, 6), D(2024, 2, 10))]
    assert missing_ranges(cov, D(2024, 1, 3), D(2024, 1, 15)) == []
    assert missing_ranges([], D(2024, 1, 3), D(2024, 1, 4)) == [(D(2024, 1, 3), D(2024, 1, 4))]


def test_merge_rebases_new_segment_on_shared_date():
    old = bars(["2024-01-02", "2024-01-03"], [10.0, 11.0])
    # new source on another basis (×2) with one shared date: returns must be continuous
    new = bars(["2024-01-03", "2024-01-04"], [22.0, 24.2], source="new")
    merged, factor = merge_bars(old, new)
    assert factor == pytest.approx(0.5)
    assert merged["close"].tolist() == pytest.approx([10.0, 11.0, 12.1])
    assert merged["source"].tolist() == ["test", "test", "new"]
    # return over the seam equals the new source's own return 24.2/22 - 1 = 10 %
    assert merged["close"].iloc[2] / merged["close"].iloc[1] - 1 == pytest.approx(0.1)
    _, none = merge_bars(old, bars(["2024-02-01"], [5.0]))
    assert none is None


def test_incremental_fetch_asks_only_missing_range_with_one_overlap_bar(tmp_path):
    c = PriceCache(tmp_path)
    first = bars(["2024-03-01", "2024-03-04", "2024-03-05"], [10.0, 10.5, 10.4], source="akshare")
    later = bars(["2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"], [20.8, 21.0, 20.0, 20.6],
                 source="akshare")
    prov = ScriptedProvider("akshare", [first, later])
    ch = ProviderChain([prov], ChainSettings(timeout=0))
    ensure_cached(c, ["300474.SZ"], "2024-03-01", "2024-03-05", chain=ch)
    report = ensure_cached(c, ["300474.SZ"], "2024-03-01", "2024-03-08", chain=ch)
    # second call asked only 03-06..03-08, widened to the last cached bar (03-05) to rebase
    assert prov.calls == [("300474.SZ", D(2024, 3, 1), D(2024, 3, 5)), ("300474.SZ", D(2024, 3, 5), D(2024, 3, 8))]
    assert report.fetched == {"300474.SZ": 4} and report.missing == []
    got = c.read("300474.SZ")
    assert got["close"].tolist() == pytest.approx([10.0, 10.5, 10.4, 10.5, 10.0, 10.3])
    # third call: nothing missing → no provider call
    ensure_cached(c, ["300474.SZ"], "2024-03-02", "2024-03-08", chain=ch)
    assert len(prov.calls) == 2


def test_provider_answer_short_of_range_leaves_tail_missing(tmp_path):
    c = PriceCache(tmp_path)
    prov = ScriptedProvider("akshare", [bars(["2024-03-01", "2024-03-04"], [10.0, 10.5])])
    report = ensure_cached(c, ["300474.SZ"], "2024-03-01", "2024-03-08",
                           chain=ProviderChain([prov], ChainSettings(timeout=0)))
    assert [(m.start, m.end) for m in report.missing] == [(D(2024, 3, 5), D(2024, 3, 8))]
    assert c.missing("300474.SZ", "2024-03-01", "2024-03-08") == [(D(2024, 3, 5), D(2024, 3, 8))]


def test_offline_lists_exactly_what_is_missing(tmp_path):
    c = PriceCache(tmp_path)
    c.write("300474.SZ", bars(["2024-03-04", "2024-03-05"], [10.0, 10.5]),
            covered=[(D(2024, 3, 4), D(2024, 3, 5))], source="local")
    report = ensure_cached(c, ["300474.SZ", "600519.SH"], "2024-03-02", "2024-03-08", offline=True)
    # 03-02/03-03 is a weekend: no session, so not missing; ranges are trimmed to their first/last session
    assert [str(m) for m in report.missing] == [
        "300474.SZ 2024-03-06..2024-03-08 (outside the cached range)",
        "600519.SH 2024-03-04..2024-03-08 (not cached)",
    ]
    assert report.fetched == {}


def test_all_providers_fail_is_reported_with_range(tmp_path):
    from engine.data.providers import EmptyResult

    prov = ScriptedProvider("yfinance", [EmptyResult("yfinance returned an empty frame for 0700.HK")])
    report = ensure_cached(PriceCache(tmp_path), ["00700.HK"], "2024-03-01", "2024-03-08",
                           chain=ProviderChain([prov], ChainSettings(timeout=0, retries=0)))
    assert "00700.HK" in report.errors[0] and "2024-03-01..2024-03-08" in report.errors[0]
    assert "yfinance" in report.errors[0]
    assert [str(m) for m in report.missing] == ["00700.HK 2024-03-01..2024-03-08 (all providers failed)"]


def test_failed_fetch_is_remembered_then_retried_after_ttl_or_on_request(tmp_path, monkeypatch):
    """A range no provider could supply is not asked again within the TTL (no retries, no back-off on every run);
    `forget_failures` (data fetch --retry-failed) or TTL 0 asks again; a later success clears the memory."""
    import datetime as dt

    from engine.data.cache import PriceCache
    from engine.data.chain import ChainSettings, ProviderChain
    from engine.data.fetch import ensure_cached
    from tests.data.fakes import ScriptedProvider, bars

    store = PriceCache(tmp_path / "c")
    down = ScriptedProvider("akshare", [ConnectionError("Connection reset by peer")])
    chain = ProviderChain([down], ChainSettings(retries=0, timeout=0), sleep=lambda s: None)
    first = ensure_cached(store, ["06082.HK"], "2026-06-01", "2026-06-30", chain=chain)
    assert first.errors and len(down.calls) == 1
    second = ensure_cached(PriceCache(tmp_path / "c"), ["06082.HK"], "2026-06-01", "2026-06-30", chain=chain)
    assert len(down.calls) == 1 and not second.errors
    assert "not retried" in second.missing[0].reason and "--retry-failed" in second.missing[0].reason
    monkeypatch.setenv("RATINGBT_FAILURE_TTL_HOURS", "0")
    ensure_cached(PriceCache(tmp_path / "c"), ["06082.HK"], "2026-06-01", "2026-06-30", chain=chain)
    assert len(down.calls) == 2
    monkeypatch.delenv("RATINGBT_FAILURE_TTL_HOURS")
    store = PriceCache(tmp_path / "c")
    assert store.recent_failure("06082.HK", dt.date(2026, 6, 1), dt.date(2026, 6, 30)) is not None
    # a failure seen with akshare alone does not stop a chain that also has yfinance from asking
    assert store.recent_failure("06082.HK", dt.date(2026, 6, 1), dt.date(2026, 6, 30),
                                providers=["akshare"]) is not None
    assert store.recent_failure("06082.HK", dt.date(2026, 6, 1), dt.date(2026, 6, 30),
                                providers=["akshare", "yfinance"]) is None
    assert store.forget_failures(["06082.HK"]) == 1
    up = ScriptedProvider("yfinance", [bars(["2026-06-02", "2026-06-03"], [61.65, 63.0])])
    chain_up = ProviderChain([up], ChainSettings(retries=0, timeout=0), sleep=lambda s: None)
    store.record_failure("06082.HK", dt.date(2026, 1, 1), dt.date(2026, 1, 31), "january failure")
    store.record_failure("06082.HK", dt.date(2026, 5, 20), dt.date(2026, 6, 10), "overlapping failure")
    store.forget_failures(["06082.HK"], overlapping=(dt.date(2026, 6, 1), dt.date(2026, 6, 30)))
    assert [f["error"] for f in store._failures_of("06082.HK")] == ["january failure"]
    store.record_failure("06082.HK", dt.date(2026, 5, 20), dt.date(2026, 6, 10), "overlapping failure")
    report = ensure_cached(store, ["06082.HK"], "2026-06-01", "2026-06-30", chain=chain_up)
    assert report.fetched == {"06082.HK": 2}
    # the answer clears the failures it overlaps; an unrelated range stays remembered
    assert [f["error"] for f in PriceCache(tmp_path / "c")._failures_of("06082.HK")] == ["january failure"]


def test_failures_of_several_ranges_are_all_remembered(tmp_path):
    """Two stages of one run ask different ranges of the same unpriced symbol; both failures count afterwards."""
    import datetime as dt

    from engine.data.cache import PriceCache

    store = PriceCache(tmp_path / "c")
    d = dt.date
    store.record_failure("06082.HK", d(2025, 4, 1), d(2026, 11, 23), "none", providers=["local", "akshare"])
    store.record_failure("06082.HK", d(2026, 6, 3), d(2026, 11, 23), "none", providers=["local", "akshare"])
    again = PriceCache(tmp_path / "c")
    assert again.recent_failure("06082.HK", d(2025, 5, 1), d(2026, 1, 1), providers=["local", "akshare"])
    assert again.recent_failure("06082.HK", d(2026, 6, 3), d(2026, 11, 23), providers=["local"])
    assert again.recent_failure("06082.HK", d(2024, 1, 1), d(2026, 1, 1), providers=["local"]) is None


def test_remembered_failures_are_read_once_per_call(tmp_path, monkeypatch):
    """A run over many codes whose ranges every provider failed recently asks no provider and opens the store a
    fixed number of times (the failures are read in one query, not one connection per code)."""
    import duckdb

    store = PriceCache(tmp_path / "c")
    codes = [f"6000{k:02d}.SH" for k in range(12)]
    for code in codes:
        store.record_failure(code, D(2026, 6, 1), D(2026, 6, 30), "none", providers=["akshare"])
    down = ScriptedProvider("akshare", [ConnectionError("down")] * 20)
    chain = ProviderChain([down], ChainSettings(retries=0, timeout=0), sleep=lambda s: None)
    opened = []
    real_connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: opened.append(a) or real_connect(*a, **k))
    report = ensure_cached(PriceCache(tmp_path / "c"), [*codes, "600099.SH"], "2026-06-01", "2026-06-30",
                           chain=chain)
    assert len(down.calls) == 1  # only the code without a remembered failure was asked
    assert sorted(m.code for m in report.missing if "not retried" in m.reason) == codes
    assert len(opened) <= 4, opened  # plan + coverage + failures in one, the one fetch's failure record, ...
    # the failure this call recorded is remembered like the others
    assert PriceCache(tmp_path / "c").recent_failure("600099.SH", D(2026, 6, 1), D(2026, 6, 30)) is not None


def test_served_arrays_equal_served_frames():
    """The array merge of a code's origins gives exactly the frame merge's dates and numbers (random cases:
    overlaps, no overlap, a ratio of exactly 1, a NaN close on a shared date, empty parts, three origins)."""
    import numpy as np

    from engine.data.cache import served_arrays, served_frames

    rng = np.random.default_rng(7)
    days = pd.bdate_range("2024-01-01", periods=80)
    fields = ("open", "high", "low", "close", "raw_close", "volume", "adj_factor")

    def part(lo, hi, scale, nan_at=None):
        picked = days[lo:hi]
        close = scale * np.exp(np.cumsum(rng.normal(0, 0.01, len(picked))))
        frame = bars(picked, close, volume=rng.integers(0, 5000, len(picked)).astype(float))
        frame["raw_close"] = close * 1.5
        frame["adj_factor"] = 1.0
        if nan_at is not None:
            frame.loc[nan_at, "close"] = np.nan
        return frame

    cases = [
        [part(0, 50, 10.0), part(40, 80, 20.0)],
        [part(0, 30, 10.0), part(35, 80, 20.0)],  # no shared date: no rescaling
        [part(0, 50, 10.0), part(0, 50, 10.0)],  # identical: factor 1
        [part(0, 50, 10.0), part(45, 80, 7.0, nan_at=0)],
        [part(0, 0, 1.0), part(10, 20, 5.0)],
        [part(10, 20, 5.0), part(0, 0, 1.0)],
        [part(20, 60, 10.0), part(0, 30, 3.0), part(50, 80, 40.0)],
    ]
    for parts in cases:
        frame, _ = served_frames(parts)
        dates, cols = served_arrays(parts, fields)
        np.testing.assert_array_equal(dates, frame["date"].to_numpy(dtype="datetime64[ns]").view("int64"))
        for name in fields:
            np.testing.assert_array_equal(cols[name], frame[name].to_numpy(dtype=float), err_msg=name)


def test_origin_arrays_of_equal_origin_frames(tmp_path):
    """The one-query numpy read of several codes' origins holds what per-code :meth:`origin_frames` reads give: the
    same origins in each code's precedence order (origins without rows left out), dates and numbers (NULL → NaN)."""
    import numpy as np

    c = PriceCache(tmp_path)
    a = bars(["2024-01-02", "2024-01-03"], [10.0, 11.0])
    b = bars(["2024-01-03", "2024-01-04", "2024-01-05"], [20.0, 22.0, 21.0]).assign(raw_close=[1.0, np.nan, 3.0])
    c.write("300474.SZ", a, covered=[], source="akshare")
    c.write("300474.SZ", b, covered=[], source="local", origin="/x/file.csv")
    c.write("600519.SH", b, covered=[], source="local", origin="/x/file.csv")
    plan = {"300474.SZ": ["/x/file.csv", "net"], "600519.SH": ["/x/other.csv", "/x/file.csv", "net"],
            "000001.SZ": ["net"]}
    fields = ("open", "high", "low", "close", "raw_close", "volume")
    got = c.origin_arrays_of(plan, fields)
    assert list(got) == list(plan)
    assert got["000001.SZ"] == [] and len(got["300474.SZ"]) == 2 and len(got["600519.SH"]) == 1
    for code, origins in plan.items():
        want = c.origin_frames(code, origins)
        assert len(got[code]) == len(want)
        for (dates, values), (_, frame) in zip(got[code], want):
            np.testing.assert_array_equal(dates, frame["date"].to_numpy(dtype="datetime64[ns]").view("int64"))
            for name in fields:
                np.testing.assert_array_equal(values[name], frame[name].to_numpy(dtype=float))
    # precedence: the local file's bars (20.0 on 2024-01-03) come before the network's (11.0) for 300474.SZ
    assert got["300474.SZ"][0][1]["close"][0] == 20.0 and got["300474.SZ"][1][1]["close"][-1] == 11.0


def test_a_new_process_skips_the_schema_statements_only_when_the_fingerprint_matches(tmp_path, monkeypatch):
    """The file remembers a fingerprint of the schema its writer created: a later process (here: the per-process
    memory cleared) whose code creates the same schema skips the statements; a different schema, or an old-layout
    cache waiting to be migrated, runs them."""
    import engine.data.store as store_module

    PriceCache(tmp_path).write("300474.SZ", bars(["2024-01-02"], [10.0]), covered=[(D(2024, 1, 2), D(2024, 1, 2))],
                               source="local")
    calls = []
    real_init = store_module.Store._init_schema
    monkeypatch.setattr(store_module.Store, "_init_schema", lambda self, con: (calls.append(1), real_init(self, con)))

    def new_process_reads() -> list[str]:
        store_module._SCHEMA_READY.clear()
        return PriceCache(tmp_path).codes()

    assert new_process_reads() == ["300474.SZ"] and calls == []  # same schema: no statements
    monkeypatch.setattr(store_module, "_schema_fingerprint", lambda: "another-schema")
    assert new_process_reads() == ["300474.SZ"] and calls == [1]  # the code's schema changed: statements run once
    assert new_process_reads() == ["300474.SZ"] and calls == [1]  # and the new fingerprint is remembered
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 1, "symbols": {}, "failures": {}}))
    new_process_reads()
    assert calls == [1, 1]  # an old-layout cache appeared: the full path runs (and migrates it)
