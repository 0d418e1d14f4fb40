"""Local worker processes (``concurrent.futures`` with the ``spawn`` start method): no Dask needed, fast to start.

A shared value is pickled once into a temporary file; each worker reads it the first time a task needs it and keeps
it for the following tasks (so it crosses to each worker once, not once per task). A worker that dies breaks the
pool; :meth:`ProcessExecutor.recover` starts a new one and :func:`engine.executor.base.run_tasks` resubmits.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import pickle
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from engine.executor.base import WORKER_THREADS_ENV, Executor

__all__ = ["ProcessExecutor", "SharedRef"]

_CACHE: dict[str, Any] = {}  # per worker process: shared values already read


@dataclass(frozen=True)
class SharedRef:
    """Handle of a value pickled to ``path`` (read once per worker process)."""

    path: str

    def load(self) -> Any:
        if self.path not in _CACHE:
            with open(self.path, "rb") as fh:
                _CACHE[self.path] = pickle.load(fh)
        return _CACHE[self.path]


def _init_worker(threads: int) -> None:
    """Worker start: limit numeric libraries to this worker's share of the cores."""
    os.environ[WORKER_THREADS_ENV] = str(threads)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(threads)


def _call(fn: Callable[..., Any], args: tuple) -> Any:
    return fn(*[a.load() if isinstance(a, SharedRef) else a for a in args])


class ProcessExecutor(Executor):
    """``workers`` local processes; each task's numba kernels get ``cores // workers`` threads (at least 1)."""

    kind = "processes"

    def __init__(self, workers: int, threads: int | None = None) -> None:
        if workers < 1:
            raise ValueError(f"executor.workers must be >= 1, got {workers}")
        self.workers = workers
        self.threads = threads or max(1, (os.cpu_count() or 1) // workers)
        self._dir = tempfile.mkdtemp(prefix="ratingbt-shared-")
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"),
                                      initializer=_init_worker, initargs=(self.threads,))

    def describe(self) -> str:
        return f"{self.workers} local worker process{'es' if self.workers > 1 else ''}"

    def share(self, value: Any) -> SharedRef:
        path = os.path.join(self._dir, f"{uuid.uuid4().hex}.pickle")
        tmp = path + ".tmp"
        with open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return SharedRef(path)

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        self.recover()
        return self._pool.submit(_call, fn, args)

    def as_completed(self, futures: Sequence[cf.Future]) -> Iterator[cf.Future]:
        return cf.as_completed(futures)

    def recover(self) -> None:
        if getattr(self._pool, "_broken", False):
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self._dir, ignore_errors=True)
