"""Forked worker processes and the default choice between them and the in-process run (``engine.signals.parallel``)."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from engine.executor import InProcessExecutor
from engine.signals import parallel
from engine.signals.ingest import ingest_paths
from engine.signals.scales import load_registry
from engine.signals.security_master import load_security_master

REPORT = ("XX证券研究所 公司点评 2024年5月{day}日\n贵州茅台(600519) 投资评级：买入（维持）\n"
          "目标价：1,650.00元 当前价：1,217.73元\n分析师：张三\n")

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX-only")


@posix_only
def test_forked_workers_give_the_in_process_table(tmp_path):
    paths = []
    for day in range(1, 9):
        p = tmp_path / f"r{day}.txt"
        p.write_text(REPORT.format(day=day), encoding="utf-8")
        paths.append(str(p))
    registry, master = load_registry(), load_security_master()
    ref = ingest_paths(paths, registry=registry, master=master)
    with parallel.ForkProcessExecutor(2, threads=1) as ex:
        got = ingest_paths(paths, registry=registry, master=master, executor=ex)
    assert len(ref.signals) == 8 and set(ref.signals["target_price"]) == {1650.0}
    pd.testing.assert_frame_equal(got.signals, ref.signals)
    assert [f.path for f in got.files] == [f.path for f in ref.files]


def test_estimate_counts_text_and_pdf_megabytes(tmp_path):
    text = tmp_path / "a.txt"
    text.write_bytes(b"x" * 2_000_000)
    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(b"%PDF-1.4" + b"x" * 999_992)
    want = 2.0 * parallel.TEXT_S_PER_MB + 1.0 * parallel.PDF_S_PER_MB
    assert parallel.estimate_seconds([text, pdf]) == pytest.approx(want)


@pytest.mark.parametrize("cores, load, work, forked", [
    (2, 0.2, 10.0, True),     # idle 2 cores, 0.4 + 10 / 2 = 5.4 s < 0.8 × 10 s: two workers
    (2, 0.2, 2.0, True),      # 0.4 + 1.0 = 1.4 s < 1.6 s
    (2, 0.2, 1.0, False),     # 0.4 + 0.5 = 0.9 s > 0.8 s: too little work to pay for the pool
    (2, 1.2, 10.0, False),    # one core busy with other jobs: 0.8 free → in-process
    (4, 1.0, 10.0, True),     # 3 free of 4: three workers
    (1, 0.0, 10.0, False),    # one core
])
def test_auto_executor_picks_the_faster(monkeypatch, cores, load, work, forked):
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(parallel, "estimate_seconds", lambda files: work)
    monkeypatch.setattr(parallel, "ForkProcessExecutor", lambda workers, threads=None: ("fork", workers))
    got = parallel.auto_executor([])
    if forked and sys.platform != "win32":
        assert got == ("fork", round(cores - load))
    else:
        assert isinstance(got, InProcessExecutor)
