"""Where the heavy loops run: in this process (default), in local worker processes, or on a Dask cluster.

One interface (:class:`Executor`: ``share`` / ``submit`` / ``as_completed``), three implementations:

| kind | class | chosen by |
|---|---|---|
| ``in-process`` | :class:`InProcessExecutor` | nothing set (today's behaviour) |
| ``processes`` | :class:`engine.executor.local.ProcessExecutor` | ``kind: processes`` + ``workers: N`` |
| ``dask`` | :class:`engine.executor.distributed.DaskExecutor` | ``workers: N`` (a ``LocalCluster``) or ``scheduler: tcp://host:8786`` |

:func:`run_tasks` submits items, retries a failed one once and returns outcomes in item order;
:mod:`engine.executor.chunks` splits work into chunks and keeps finished chunks on disk so a sweep can resume.
Callers: :func:`engine.signals.ingest.ingest_paths` (files) and :func:`engine.backtest.sweep.run_sweep` (variants).
"""

from __future__ import annotations

from typing import Any

from engine.executor.base import Executor, InProcessExecutor, TaskOutcome, run_tasks, worker_threads

__all__ = ["Executor", "InProcessExecutor", "TaskOutcome", "run_tasks", "worker_threads", "make_executor",
           "resolve_kind", "KINDS"]

KINDS = ("auto", "in-process", "processes", "dask")


def resolve_kind(kind: str = "auto", workers: int | None = None, scheduler: str | None = None) -> str:
    """``auto``: a scheduler → ``dask``; ``workers`` → ``dask`` (a LocalCluster); nothing → ``in-process``."""
    if kind not in KINDS:
        raise ValueError(f"executor.kind: {kind!r} is not one of {', '.join(KINDS)}")
    if kind != "auto":
        return kind
    if scheduler:
        return "dask"
    return "dask" if workers else "in-process"


def make_executor(settings: Any = None, *, workers: int | None = None, scheduler: str | None = None,
                  kind: str | None = None) -> Executor:
    """An executor from ``settings`` (an :class:`engine.config.ExecutorConfig` or ``None``) and/or keywords
    (keywords win). Close it when done (``with make_executor(...) as ex:``)."""
    workers = workers if workers is not None else getattr(settings, "workers", None)
    scheduler = scheduler if scheduler is not None else getattr(settings, "scheduler", None)
    kind = resolve_kind(kind or getattr(settings, "kind", None) or "auto", workers, scheduler)
    if kind == "in-process":
        if scheduler:
            raise ValueError("executor.scheduler needs executor.kind dask (or auto), not in-process")
        return InProcessExecutor()
    if kind == "processes":
        if scheduler:
            raise ValueError("executor.scheduler needs executor.kind dask (or auto), not processes")
        from engine.executor.local import ProcessExecutor

        return ProcessExecutor(int(workers or 1))
    from engine.executor.distributed import DaskExecutor

    return DaskExecutor(workers=workers, scheduler=scheduler)
