"""Chunked sweeps on a Dask LocalCluster of 2 worker processes equal the single-call reference; a killed worker is
survived; an interrupted sweep resumes from the chunks kept on disk."""

from __future__ import annotations

import os
import signal

import numpy as np
import pandas as pd
import pytest

from engine import stats
from engine.backtest import sweep as sweep_mod
from engine.backtest.simulate import simulate_sweep
from engine.backtest.sweep import SweepError, run_sweep
from engine.executor import InProcessExecutor


def reference_table(panel, data, rules, set_of_variant) -> pd.DataFrame:
    """The pre-executor path: every variant in one ``simulate_sweep`` call, then ``stats.summary`` per column."""
    batch = simulate_sweep(panel, list(data.weights), rules, weight_set_of_variant=set_of_variant,
                           inputs=data.inputs)
    rows = []
    for v in range(len(rules)):
        row = stats.summary(batch.equity[v], data.bench_scaled, batch.fees[v], batch.traded_value[v], data.periods,
                            data.risk_free)
        row.update(orders_filled=int(batch.counts.loc[v, "fills"]),
                   orders_rejected_or_cut=int(batch.counts.loc[v, "rejects"]))
        rows.append(row)
    return pd.DataFrame(rows, index=pd.RangeIndex(len(rules), name="variant"))


@pytest.fixture(scope="module")
def reference(sweep_case):
    return reference_table(*sweep_case)


def assert_same_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.index) == list(want.index)
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-12, check_index_type=False)


def first(sweep_case, n):
    """The first ``n`` variants (the statistics cost ~10 ms a variant: most tests use fewer than 200)."""
    _, data, rules, sets = sweep_case
    return data, rules[:n], sets[:n]


def test_in_process_chunks_equal_the_single_call(sweep_case, reference):
    data, rules, sets = first(sweep_case, 60)
    one, _ = run_sweep(data, rules, sets)
    chunked, _ = run_sweep(data, rules, sets, chunk_size=17)  # uneven last chunk
    assert_same_table(one, reference.iloc[:60])
    assert_same_table(chunked, reference.iloc[:60])
    assert reference["total_return"].nunique() > 50  # the variants really differ


def test_200_variants_on_2_dask_workers_equal_the_in_process_run(sweep_case, reference, cluster):
    _, data, rules, sets = sweep_case
    seen = []
    table, _ = run_sweep(data, rules, sets, executor=cluster, chunk_size=25, progress=seen.append)
    assert_same_table(table, reference)
    assert len(seen) == 8 and seen[-1].startswith("sweep: 8/8 chunks")


def test_failed_chunk_is_retried_once_then_reported_by_variant(sweep_case, monkeypatch, tmp_path):
    data, rules, sets = first(sweep_case, 40)
    calls: dict[int, int] = {}
    real = sweep_mod.run_chunk

    def flaky(chunk, shared):
        calls[chunk.number] = calls.get(chunk.number, 0) + 1
        if chunk.number == 1 and calls[1] == 1:
            raise MemoryError("transient")
        if chunk.number == 3:
            raise ValueError("always broken")
        return real(chunk, shared)

    monkeypatch.setattr(sweep_mod, "run_chunk", flaky)
    with pytest.raises(SweepError, match=r"chunk 3 \(variants 30–39\) failed 2 times: ValueError: always broken"):
        run_sweep(data, rules, sets, chunk_size=10, store_dir=tmp_path / "sweep_chunks")
    assert calls == {0: 1, 1: 2, 2: 1, 3: 2}
    kept = sorted(p.name for p in (tmp_path / "sweep_chunks").glob("*.parquet"))
    assert kept == ["0000.parquet", "0001.parquet", "0002.parquet"]


def test_interrupted_sweep_resumes_from_the_chunks_on_disk(sweep_case, reference, monkeypatch, tmp_path):
    data, rules, sets = first(sweep_case, 50)
    store = tmp_path / "sweep_chunks"
    real = sweep_mod.run_chunk
    ran: list[int] = []

    def interrupted(chunk, shared):
        if chunk.number == 2:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the sweep
        ran.append(chunk.number)
        return real(chunk, shared)

    monkeypatch.setattr(sweep_mod, "run_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(data, rules, sets, chunk_size=10, store_dir=store)
    assert ran == [0, 1] and sorted(p.name for p in store.glob("*.parquet")) == ["0000.parquet", "0001.parquet"]
    assert not list(store.glob("*.tmp-*"))  # only whole chunks, written atomically

    ran.clear()
    monkeypatch.setattr(sweep_mod, "run_chunk", lambda chunk, shared: ran.append(chunk.number) or real(chunk, shared))
    table, notes = run_sweep(data, rules, sets, chunk_size=10, store_dir=store)
    assert ran == [2, 3, 4]
    assert notes == [f"resumed: 2 of 5 chunks already done in {store}"]
    assert_same_table(table, reference.iloc[:50])
    assert not store.exists()  # removed once the table is complete


def test_chunks_of_other_inputs_are_not_reused(sweep_case, reference, tmp_path):
    data, rules, sets = first(sweep_case, 30)
    store = tmp_path / "sweep_chunks"
    store.mkdir()
    (store / "manifest.json").write_text('{"key": "someone else", "n_chunks": 3}')
    (store / "0000.parquet").write_bytes(b"not this sweep")
    table, notes = run_sweep(data, rules, sets, chunk_size=10, store_dir=store)
    assert notes == [f"{store}: chunks of a different sweep (other inputs) were discarded"]
    assert_same_table(table, reference.iloc[:30])


def test_a_worker_killed_mid_sweep_is_survived(sweep_case, reference, cluster):
    data, rules, sets = first(sweep_case, 80)
    pids = cluster.worker_pids()
    assert len(pids) == 2
    victim = sorted(pids.values())[0]
    at_kill: list[str] = []

    def kill_once(text: str) -> None:
        if not at_kill:
            at_kill.append(text)
            os.kill(victim, signal.SIGKILL)

    table, _ = run_sweep(data, rules, sets, executor=cluster, chunk_size=4, progress=kill_once)
    assert at_kill[0].startswith("sweep: 1/20 chunks")  # killed after the first of 20 chunks came back
    assert_same_table(table, reference.iloc[:80])
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)  # the worker really is gone


def test_a_worker_dying_inside_a_chunk_is_survived_by_the_process_pool(sweep_case, reference, tmp_path):
    """Plain process pool: the chunk whose worker dies breaks the pool; a new pool runs the lost chunks again."""
    from engine.executor.local import ProcessExecutor

    data, rules, sets = first(sweep_case, 20)
    with ProcessExecutor(2) as ex:
        table, _ = run_sweep(data, rules, sets, executor=ex, chunk_size=4,
                             progress=lambda text: _die_once(ex, tmp_path) if "1/5" in text else None)
    assert (tmp_path / "killed").exists()
    assert_same_table(table, reference.iloc[:20])


def _die_once(ex, tmp_path) -> None:
    """Kill one pool worker from the driver (as an out-of-memory killer would)."""
    marker = tmp_path / "killed"
    if not marker.exists():
        marker.touch()
        pid = sorted(ex._pool._processes)[0]
        os.kill(pid, signal.SIGKILL)


def test_in_process_default_is_one_kernel_call(sweep_case, monkeypatch):
    data, rules, sets = first(sweep_case, 30)
    sizes = []
    real = sweep_mod.run_chunk
    monkeypatch.setattr(sweep_mod, "run_chunk", lambda chunk, shared: sizes.append(len(chunk.variants))
                        or real(chunk, shared))
    run_sweep(data, rules, sets, executor=InProcessExecutor())
    assert sizes == [30]
    assert np.array_equal(data.row_active, ~np.isnan(data.weights).all(axis=2))
