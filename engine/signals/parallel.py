"""Read many report files on worker processes or a Dask cluster; the driver keeps the only copy of the result.

:func:`ingest_files` steps:

1. Without ``workers``/``executor``: :func:`engine.signals.ingest.ingest_file` on each file here, in order.
2. Otherwise the files are cut into chunks (about eight per worker, at most 16 files each, so the progress bar
   moves and a slow PDF does not hold a worker's whole share); the registry and security master are sent once per
   worker (:meth:`engine.executor.Executor.share`), each chunk is one task (:func:`engine.executor.run_tasks`,
   retried once when it fails or its worker dies).
3. A chunk that failed twice is re-run one file per task, so only the file that breaks the parser is reported
   (``readable=False``, ``error: <file>: worker failed …``); the other files keep their results.
4. Outcomes come back in file order, so the table built from them equals the in-process one.

:func:`auto_executor` is the default of ``ratingbt ingest`` when no executor is asked for: it estimates the
in-process time from the files' sizes and runs them on forked worker processes (:class:`ForkProcessExecutor`:
workers start as copies of this process, with the parser already imported and its patterns compiled, instead of
a fresh interpreter importing pandas and the parser again, about 1.2 s of CPU each) only when that is expected to
be faster: enough work for the pool's start to pay off, and two or more cores not busy with other jobs.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from engine.executor import Executor, InProcessExecutor, make_executor, run_tasks
from engine.executor.chunks import chunk_ranges
from engine.executor.local import ProcessExecutor
from engine.signals.extract import Message
from engine.signals.ingest import FileResult, ingest_file
from engine.signals.scales import ScaleRegistry
from engine.signals.security_master import SecurityMaster

if TYPE_CHECKING:
    import pandas as pd  # noqa: F401  (the FileOutcome annotation)

__all__ = ["ingest_files", "files_chunk_size", "ForkProcessExecutor", "auto_executor", "estimate_seconds"]

FileOutcome = tuple[FileResult, list[dict], "pd.DataFrame | None"]


def files_chunk_size(n_files: int, workers: int) -> int:
    """Files per task: about eight tasks per worker, between 1 and 16 files."""
    return max(1, min(16, math.ceil(n_files / max(1, workers * 8))))


def _ingest_chunk(paths: Sequence[str], shared: tuple[ScaleRegistry, SecurityMaster, dict | None]
                  ) -> list[FileOutcome]:
    registry, master, column_map = shared
    return [ingest_file(Path(p), registry, master, column_map) for p in paths]


def ingest_files(files: Sequence[Path], registry: ScaleRegistry, master: SecurityMaster, *,
                 workers: int | None = None, executor: Executor | None = None,
                 progress: Callable[[str], None] | None = None,
                 column_map: dict[str, str] | None = None) -> list[FileOutcome]:
    """``ingest_file`` for every file, in file order (see module docstring). ``progress(path)`` once per file."""
    if (executor is None and not workers) or isinstance(executor, InProcessExecutor):
        out = []
        for path in files:
            if progress is not None:
                progress(str(path))
            out.append(ingest_file(path, registry, master, column_map))
        return out
    own = executor is None
    ex = make_executor(workers=workers) if own else executor
    try:
        return _ingest_on(ex, [str(p) for p in files], (registry, master, column_map), progress)
    finally:
        if own:
            ex.close()


def _ingest_on(ex: Executor, paths: list[str], context: tuple, progress: Callable[[str], None] | None
               ) -> list[FileOutcome]:
    if not paths:
        return []
    chunks = [paths[r.start:r.stop] for r in chunk_ranges(len(paths), files_chunk_size(len(paths), ex.workers))]
    shared = ex.share(context)

    def report(chunk: Sequence[str]) -> None:
        if progress is not None:
            for p in chunk:
                progress(p)

    outcomes = run_tasks(ex, _ingest_chunk, chunks, shared, retries=1,
                         on_done=lambda k, o: report(chunks[k]) if o.ok else None)
    results: list[FileOutcome] = []
    for chunk, outcome in zip(chunks, outcomes):
        if outcome.ok:
            results.extend(outcome.value)
            continue
        singles = run_tasks(ex, _ingest_chunk, [[p] for p in chunk], shared, retries=0,
                            on_done=lambda k, o, c=chunk: report([c[k]]))
        for path, single in zip(chunk, singles):
            if single.ok:
                results.extend(single.value)
            else:
                failed = FileResult(path=path, readable=False)
                failed.messages.append(Message("error", f"{path}: worker failed while reading it ({single.error})"))
                results.append((failed, [], None))
    return results


class ForkProcessExecutor(ProcessExecutor):
    """:class:`engine.executor.local.ProcessExecutor` whose workers are forked from this process (POSIX): they
    start with every module already imported, so a short job does not pay a fresh interpreter's start per worker.
    Only for pure-Python work started before any thread that could hold a lock (the parser's)."""

    def __init__(self, workers: int, threads: int | None = None) -> None:
        super().__init__(workers, threads)
        # fork every worker now, before the caller starts threads of its own (a progress bar's refresh thread)
        for future in [self._pool.submit(os.getpid) for _ in range(workers)]:
            future.result()

    def _new_pool(self):  # type: ignore[override]
        import concurrent.futures as cf

        from engine.executor.local import _init_worker

        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("fork"),
                                      initializer=_init_worker, initargs=(self.threads,))

    def describe(self) -> str:
        return f"{self.workers} forked worker process{'es' if self.workers > 1 else ''}"


#: in-process cost of the parser in seconds per MB of report text and per MB of PDF: rough averages over real
#: reports of many brokers (re-measure with ``bench/bench_ingest.py``); they only decide whether a worker pool pays
TEXT_S_PER_MB = 0.3
PDF_S_PER_MB = 0.15
#: a worker pool's own cost in this process (forking, sending the registry, collecting the rows), seconds
POOL_START_S = 0.4


def estimate_seconds(files: Sequence[Path]) -> float:
    """In-process ingest time of ``files`` (seconds), from their sizes: text at :data:`TEXT_S_PER_MB`, PDFs at
    :data:`PDF_S_PER_MB` (a missing file counts 0)."""
    total = 0.0
    for path in files:
        try:
            size_mb = path.stat().st_size / 1e6
        except OSError:
            continue
        total += size_mb * (PDF_S_PER_MB if path.suffix.lower() == ".pdf" else TEXT_S_PER_MB)
    return total


def free_cores() -> float:
    """Cores not busy with other jobs: the core count less the one-minute load average (0 when unknown)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        load = 0.0
    return max(0.0, cores - load)


def auto_executor(files: Sequence[Path]) -> Executor:
    """The faster of in-process and forked workers for ``files`` (see module docstring): one forked worker per
    free core (:func:`free_cores`, rounded to the nearest) when there are two or more and their expected time
    ``start + work ÷ workers`` beats the in-process ``work`` by 20 % or more, else in-process. Busy cores count
    against workers because the kernel shares the CPU between sessions (Linux autogroup), not processes: on a
    machine other jobs keep busy, two workers get no more CPU than one process and only add their start
    (measured, ``bench/RESULTS.md``). Fork is POSIX-only: elsewhere always in-process."""
    workers = min(os.cpu_count() or 1, int(free_cores() + 0.5))
    work = estimate_seconds(files)
    if workers < 2 or sys.platform == "win32" or "fork" not in mp.get_all_start_methods():
        return InProcessExecutor()
    if POOL_START_S + work / workers > 0.8 * work:
        return InProcessExecutor()
    return ForkProcessExecutor(workers, threads=1)
