"""The executor interface, the in-process implementation and the task loop every caller uses.

An :class:`Executor` runs pure functions of picklable arguments somewhere — in this process, in local worker
processes (:mod:`engine.executor.local`) or on a Dask cluster (:mod:`engine.executor.distributed`):

1. :meth:`Executor.share` sends a large read-only value (a price panel, a scale registry) to the workers **once per
   worker** and returns a handle; pass the handle to :meth:`Executor.submit` in place of the value and the function
   receives the value itself.
2. :meth:`Executor.submit` queues ``fn(*args)`` and returns a future (``result()``, ``exception()``).
3. :meth:`Executor.as_completed` yields futures as they finish (what progress bars are fed from).

:func:`run_tasks` is the loop on top: submit every item, feed ``on_done`` as results arrive, retry a failed task
once (``retries``), and return one :class:`TaskOutcome` per item **in item order**, with the value or the error.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Executor", "InProcessExecutor", "TaskOutcome", "run_tasks", "worker_threads", "WORKER_THREADS_ENV"]

WORKER_THREADS_ENV = "RATINGBT_WORKER_THREADS"


def worker_threads() -> int | None:
    """Threads a task may use inside a worker process (set by the executors that start workers: cores ÷ workers
    on the host), or ``None`` in the driver process / on workers started by hand (then numba's default)."""
    import os

    value = os.environ.get(WORKER_THREADS_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


class Executor(ABC):
    """Where tasks run. Use as a context manager (``with make_executor(...) as ex:``) so workers are released."""

    kind: str = ""
    #: worker processes the tasks are spread over (1 for in-process)
    workers: int = 1

    def share(self, value: Any) -> Any:
        """A handle for ``value`` to pass to :meth:`submit`; the value is sent to each worker once."""
        return value

    @abstractmethod
    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Queue ``fn(*args)``; return a future with ``result()`` and ``exception()``."""

    @abstractmethod
    def as_completed(self, futures: Sequence[Any]) -> Iterator[Any]:
        """Yield ``futures`` as they finish."""

    def recover(self) -> None:
        """Make the executor usable again after a worker died (a no-op where the engine does it itself)."""

    def describe(self) -> str:
        """One line for messages and benchmark tables (``in-process``, ``2 local worker processes`` …)."""
        return self.kind

    def close(self) -> None:
        """Release workers (a no-op for in-process)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _LazyFuture:
    """A task of :class:`InProcessExecutor`: runs when the caller reaches it, so progress is reported as it goes."""

    def __init__(self, fn: Callable[..., Any], args: tuple) -> None:
        self._fn, self._args = fn, args
        self._done, self._value, self._error = False, None, None

    def run(self) -> None:
        if not self._done:
            try:
                self._value = self._fn(*self._args)
            except Exception as exc:  # noqa: BLE001 - reported by run_tasks like a worker's error
                self._error = exc
            self._done = True

    def exception(self) -> BaseException | None:
        self.run()
        return self._error

    def result(self) -> Any:
        self.run()
        if self._error is not None:
            raise self._error
        return self._value


class InProcessExecutor(Executor):
    """Today's behaviour: every task runs in this process, in submission order (numba kernels still use all cores)."""

    kind = "in-process"

    def submit(self, fn: Callable[..., Any], *args: Any) -> _LazyFuture:
        return _LazyFuture(fn, args)

    def as_completed(self, futures: Sequence[Any]) -> Iterator[Any]:
        for fut in futures:
            fut.run()
            yield fut


@dataclass
class TaskOutcome:
    """One item's result: ``value`` when it succeeded, else ``error`` (one line) and ``attempts`` made."""

    index: int
    value: Any = None
    error: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def run_tasks(executor: Executor, fn: Callable[..., Any], items: Sequence[Any], *shared: Any,
              retries: int = 1, on_done: Callable[[int, TaskOutcome], None] | None = None,
              done: Iterable[int] = ()) -> list[TaskOutcome]:
    """Run ``fn(item, *shared)`` for every item not in ``done``; results in item order.

    ``shared`` are handles from :meth:`Executor.share` (or plain values). A task that raises — or whose worker
    died — is submitted again up to ``retries`` times; after that its outcome carries the error instead of stopping
    the others. ``on_done(index, outcome)`` is called in the driver as each item finishes (progress bars, writing
    a finished chunk to disk). Items listed in ``done`` are skipped (their outcome stays ``None`` in the list).
    """
    skip = set(done)
    outcomes: list[TaskOutcome | None] = [None] * len(items)
    attempts = [0] * len(items)
    pending: dict[Any, int] = {}
    for i, item in enumerate(items):
        if i not in skip:
            attempts[i] = 1
            pending[executor.submit(fn, item, *shared)] = i
    while pending:
        again: dict[Any, int] = {}
        for fut in executor.as_completed(list(pending)):
            i = pending.pop(fut)
            exc = fut.exception()
            if exc is None:
                outcome = TaskOutcome(i, value=fut.result(), attempts=attempts[i])
            elif attempts[i] <= retries:
                executor.recover()
                attempts[i] += 1
                again[executor.submit(fn, items[i], *shared)] = i
                continue
            else:
                outcome = TaskOutcome(i, error=_one_line(exc), attempts=attempts[i])
            outcomes[i] = outcome
            if on_done is not None:
                on_done(i, outcome)
        pending = again
    return outcomes  # type: ignore[return-value]
