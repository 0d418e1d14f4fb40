"""The task loop, chunking, the chunk store and choosing an executor (no workers started here)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from engine.config import ConfigError, ExecutorConfig
from engine.executor import InProcessExecutor, make_executor, resolve_kind, run_tasks
from engine.executor.chunks import ChunkStore, chunk_ranges, default_chunk_size, fingerprint


def test_run_tasks_keeps_item_order_and_retries_a_failure_once():
    attempts: dict[int, int] = {}

    def work(item, offset):
        attempts[item] = attempts.get(item, 0) + 1
        if item == 2 and attempts[item] == 1:
            raise OSError("flaky disk")
        if item == 4:
            raise ValueError("bad item\nsecond line")
        return item * 10 + offset

    done = []
    out = run_tasks(InProcessExecutor(), work, [0, 1, 2, 3, 4], 7, on_done=lambda i, o: done.append(i))
    assert [o.value for o in out] == [7, 17, 27, 37, None]
    assert [o.attempts for o in out] == [1, 1, 2, 1, 2]
    assert out[4].error == "ValueError: bad item" and not out[4].ok
    assert sorted(done) == [0, 1, 2, 3, 4] and attempts == {0: 1, 1: 1, 2: 2, 3: 1, 4: 2}


def test_run_tasks_skips_items_already_done():
    out = run_tasks(InProcessExecutor(), lambda x: x + 1, [1, 2, 3], done={0, 2})
    assert out[0] is None and out[2] is None and out[1].value == 3


def test_chunk_ranges_cover_every_item_once():
    ranges = chunk_ranges(10, 4)
    assert [list(r) for r in ranges] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert chunk_ranges(0, 3) == []
    with pytest.raises(ValueError):
        chunk_ranges(5, 0)
    assert default_chunk_size(2000, 1) == 2000          # in-process: one kernel call
    assert default_chunk_size(2000, 2) == 250           # 4 chunks per worker
    assert default_chunk_size(3, 32) == 1


def test_fingerprint_changes_with_any_input():
    import numpy as np

    a = np.arange(6.0).reshape(2, 3)
    base = fingerprint(a, 1.5, "x")
    assert fingerprint(a.copy(), 1.5, "x") == base
    b = a.copy()
    b[1, 2] += 1e-12
    assert fingerprint(b, 1.5, "x") != base
    assert fingerprint(a.reshape(3, 2), 1.5, "x") != base
    assert fingerprint(a, 1.5, "y") != base


def test_chunk_store_resumes_only_the_same_job(tmp_path):
    store = ChunkStore(tmp_path / "chunks", "k1", 3)
    assert store.open() == set()
    frame = pd.DataFrame({"x": [0.1, float("nan")]}, index=pd.Index([4, 5], name="variant"))
    store.save(1, frame)
    assert json.loads((tmp_path / "chunks" / "manifest.json").read_text()) == {"key": "k1", "n_chunks": 3}
    again = ChunkStore(tmp_path / "chunks", "k1", 3)
    assert again.open() == {1} and "1 of 3" in again.note
    pd.testing.assert_frame_equal(again.load(1), frame)
    other = ChunkStore(tmp_path / "chunks", "k2", 3)
    assert other.open() == set() and "discarded" in other.note
    assert not (tmp_path / "chunks" / "0001.parquet").exists()


def test_choosing_an_executor():
    assert resolve_kind() == "in-process"
    assert resolve_kind(workers=4) == "dask"
    assert resolve_kind(scheduler="tcp://h:8786") == "dask"
    assert resolve_kind("processes", workers=2) == "processes"
    with pytest.raises(ValueError, match="executor.kind: 'ray' is not one of auto, in-process, processes, dask"):
        resolve_kind("ray")
    assert isinstance(make_executor(None), InProcessExecutor)
    assert isinstance(make_executor(ExecutorConfig()), InProcessExecutor)


def test_executor_config_errors_name_the_key(tmp_path):
    from engine.config import load_backtest_config

    path = tmp_path / "bt.yaml"
    path.write_text("name: x\nsignals: {file: s.csv}\nexecutor: {workers: 0}\n")
    with pytest.raises(ConfigError, match=r"executor.workers: Input should be greater than or equal to 1"):
        load_backtest_config(path)
    path.write_text("name: x\nsignals: {file: s.csv}\nexecutor: {kind: ray}\n")
    with pytest.raises(ConfigError, match=r"executor.kind: .*'auto', 'in-process', 'processes' or 'dask'"):
        load_backtest_config(path)
    path.write_text("name: x\nsignals: {file: s.csv}\nexecutor: {workers: 2, scheduler: 'tcp://h:8786'}\n")
    with pytest.raises(ConfigError, match=r"executor: .*not both"):
        load_backtest_config(path)
    path.write_text("name: x\nsignals: {file: s.csv}\nexecutor: {workers: 2, chunk_size: 50}\n")
    cfg = load_backtest_config(path)
    assert (cfg.executor.workers, cfg.executor.chunk_size, cfg.executor.kind) == (2, 50, "auto")


def test_unreachable_scheduler_says_how_to_start_one():
    pytest.importorskip("distributed")
    from engine.executor.distributed import DaskExecutor, SchedulerUnreachable

    with pytest.raises(SchedulerUnreachable, match=r"no Dask scheduler answers at tcp://127.0.0.1:9.*dask scheduler"):
        DaskExecutor(scheduler="tcp://127.0.0.1:9", connect_timeout=1)
