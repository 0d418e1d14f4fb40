"""Dask distributed: a ``LocalCluster`` of N worker processes on this machine, or a running scheduler's address.

Shared values go out with ``client.scatter(..., broadcast=True)`` (one copy per worker, before any task); tasks are
``client.submit(..., pure=False)``; results come back through ``distributed.as_completed``. When a worker dies the
scheduler moves its tasks to the others (and a LocalCluster's nanny starts a new worker); a task that still fails is
resubmitted once by :func:`engine.executor.base.run_tasks`. Workers must be able to import ``engine`` (same version).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from engine.executor.base import WORKER_THREADS_ENV, Executor

__all__ = ["DaskExecutor", "SchedulerUnreachable"]


class SchedulerUnreachable(RuntimeError):
    """The scheduler address did not answer; the message says how to start one."""


class DaskExecutor(Executor):
    """``workers`` local worker processes (``LocalCluster``) or the cluster behind ``scheduler`` (``tcp://host:8786``)."""

    kind = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, threads: int | None = None,
                 connect_timeout: float = 10.0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask is a pinned dependency
            raise RuntimeError("executor: Dask is not installed (pip install 'dask[distributed]')") from exc
        self._cluster = None
        self.scheduler = scheduler
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=connect_timeout)
            except OSError as exc:
                raise SchedulerUnreachable(
                    f"executor.scheduler: no Dask scheduler answers at {scheduler} ({exc}); start one with "
                    "`dask scheduler` and workers with `dask worker tcp://HOST:8786`") from None
            self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        else:
            n = int(workers or 1)
            if n < 1:
                raise ValueError(f"executor.workers must be >= 1, got {n}")
            threads = threads or max(1, (os.cpu_count() or 1) // n)
            env = {WORKER_THREADS_ENV: str(threads), "OMP_NUM_THREADS": str(threads),
                   "MKL_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
            self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                         silence_logs=logging.CRITICAL, env=env)
            self.client = Client(self._cluster)
            self.workers = n

    def describe(self) -> str:
        if self.scheduler:
            return f"Dask cluster at {self.scheduler} ({self.workers} workers)"
        return f"Dask LocalCluster, {self.workers} worker process{'es' if self.workers > 1 else ''}"

    def share(self, value: Any) -> Any:
        return self.client.scatter([value], broadcast=True, hash=False)[0]

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def as_completed(self, futures: Sequence[Any]) -> Iterator[Any]:
        from distributed import as_completed

        return iter(as_completed(futures))

    def worker_pids(self) -> dict[str, int]:
        """Worker address → process id (tests kill one to check a sweep survives)."""
        return self.client.run(os.getpid)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
