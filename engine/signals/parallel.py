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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from engine.executor import Executor, InProcessExecutor, make_executor, run_tasks
from engine.executor.chunks import chunk_ranges
from engine.signals.extract import Message
from engine.signals.ingest import FileResult, ingest_file
from engine.signals.scales import ScaleRegistry
from engine.signals.security_master import SecurityMaster

__all__ = ["ingest_files", "files_chunk_size"]

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
