"""Reports read on worker processes give the same signals table and file summaries as the in-process run."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.executor import InProcessExecutor
from engine.executor.base import Executor
from engine.signals import parallel
from engine.signals.ingest import ingest_paths
from engine.signals.scales import load_registry
from engine.signals.security_master import load_security_master


@pytest.fixture(scope="module")
def forty_reports(tmp_path_factory):
    """40 reports: the 5 seeds and 35 whitespace-stripped corpus reports spread over the corpus (several brokers),
    plus one file that cannot be read; skips without ../shared."""
    from engine.paths import shared_dir

    folder = shared_dir() / "corpus" / "stripped"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found (set RATINGBT_SHARED)")
    files = sorted(folder.glob("*.txt"))
    seeds = sorted(p for p in (shared_dir() / "seeds").iterdir() if p.suffix in (".txt", ".md")
                   and not p.stem.lower().startswith("readme"))
    picked = [str(p) for p in seeds] + [str(p) for p in files[:: max(1, len(files) // 35)][:40 - len(seeds)]]
    assert len(picked) == 40
    bad = tmp_path_factory.mktemp("bad") / "missing.pdf"
    bad.write_bytes(b"%PDF-1.4 truncated")
    return picked + [str(bad)]


@pytest.fixture(scope="module")
def in_process(forty_reports):
    return ingest_paths(forty_reports, registry=load_registry(), master=load_security_master())


def summaries(result) -> list[tuple]:
    return [(f.path, f.readable, f.kind, f.broker, f.report_date, f.report_type, f.n_ratings, f.n_mentions,
             [(m.level, m.text) for m in f.messages]) for f in result.files]


def test_40_reports_on_2_dask_workers_equal_the_in_process_run(forty_reports, in_process, cluster):
    seen: list[str] = []
    result = ingest_paths(forty_reports, executor=cluster, progress=seen.append)
    assert in_process.signals["kind"].eq("rating").sum() >= 5 and in_process.signals["broker"].nunique() > 1
    pd.testing.assert_frame_equal(result.signals, in_process.signals)
    assert summaries(result) == summaries(in_process)
    assert sorted(seen) == sorted(forty_reports)  # one progress tick per file
    assert [f.readable for f in result.files].count(False) == 1


def test_local_process_pool_gives_the_same_table(forty_reports, in_process):
    from engine.executor.local import ProcessExecutor

    with ProcessExecutor(2) as ex:
        result = ingest_paths(forty_reports, executor=ex)
    pd.testing.assert_frame_equal(result.signals, in_process.signals)
    assert summaries(result) == summaries(in_process)


class SerialExecutor(Executor):
    """Runs tasks here but is not the in-process fast path, so the chunk / retry logic is exercised."""

    kind = "serial-test"
    workers = 2

    def submit(self, fn, *args):
        return InProcessExecutor().submit(fn, *args)

    def as_completed(self, futures):
        return InProcessExecutor().as_completed(futures)


def test_a_file_that_breaks_the_parser_is_reported_by_file(forty_reports, in_process, monkeypatch):
    """A chunk that fails twice is re-run file by file: only the broken file is lost, with its name."""
    assert issubclass(SerialExecutor, Executor)
    victim = forty_reports[5]
    real = parallel.ingest_file

    def crashing(path, registry, master, column_map=None):
        if str(path) == victim:
            raise RecursionError("parser blew up")
        return real(path, registry, master, column_map)

    monkeypatch.setattr(parallel, "ingest_file", crashing)
    result = ingest_paths(forty_reports, executor=SerialExecutor())
    broken = [f for f in result.files if f.path == victim][0]
    assert not broken.readable
    assert broken.messages[0].text == f"{victim}: worker failed while reading it (RecursionError: parser blew up)"
    without = ingest_paths([p for p in forty_reports if p != victim])
    pd.testing.assert_frame_equal(result.signals, without.signals)
    others = [s for s in summaries(result) if s[0] != victim]
    assert others == [s for s in summaries(in_process) if s[0] != victim]
