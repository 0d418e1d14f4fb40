"""The feed runner: fetch a rating source key by key (a day or a symbol), resumably, politely, into a sink.

Algorithm of :func:`run_feed`:

1. Keys to do = the requested keys minus those already *done* in the feed's state file
   (``<cache>/feeds/<source>.json``: ``{"version": 1, "done": {key: {"rows": n, "at": iso}}, "failed": {key:
   {"error": text, "attempts": n, "at": iso}}}``). A failed key is tried again on the next run.
2. Per key: wait until ``min_interval`` seconds have passed since the previous call (rate limit), call
   ``feed.fetch(key)``; a *transient* error (network, time-out, anything but :class:`FeedFormatError`) is retried
   ``retries`` times with back-off ``backoff · 2^attempt`` seconds; a :class:`FeedFormatError` (the source's columns
   changed) stops the whole run at once, since every later key would fail the same way.
3. ``feed.convert(raw, key)`` → a signals table (:data:`engine.signals.schema.SIGNAL_COLUMNS`); an empty answer is a
   finished key with 0 rows (a day without ratings, a stock without coverage).
4. ``sink(frame, source) -> int`` stores the rows (the store's ``add_signals``, which drops rows it already holds:
   same broker, stock and day from a report, a CSV or another feed) and returns how many were new.
5. The key is recorded as done (or failed) and the state file rewritten atomically (temp file + ``os.replace``, under
   a file lock so two processes never interleave), so a killed run resumes at the next key.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

import pandas as pd

__all__ = ["Feed", "FeedFormatError", "FeedReport", "FeedState", "run_feed", "require_columns", "state_path"]


class FeedFormatError(ValueError):
    """The source answered in a format we do not understand (a column missing or renamed): not worth retrying."""


def require_columns(frame: pd.DataFrame, needed: Iterable[str], where: str) -> None:
    """Raise :class:`FeedFormatError` naming the missing columns and the ones found."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise FeedFormatError(f"{where}: column(s) {', '.join(missing)} missing; got {', '.join(map(str, frame.columns))}"
                              " (the source's format changed; update engine/signals/feeds)")


class Feed(Protocol):
    """A rating source: ``name`` (state file and ``source`` tag), ``fetch(key)`` (raw answer, may raise) and
    ``convert(raw, key)`` (→ signals table, raises :class:`FeedFormatError` on an unknown format)."""

    name: str

    def fetch(self, key: str) -> Any: ...

    def convert(self, raw: Any, key: str) -> pd.DataFrame: ...


class CallFeed:
    """What the feeds share whose raw answer for a key (a code or a day) is one function call — akshare's by
    default (:attr:`default_call`), an injected function in tests: ``fetch(key)``, the registry and the messages.
    A subclass sets ``name``, ``default_call`` and writes ``convert``."""

    name = ""

    def __init__(self, call: Callable[[str], pd.DataFrame] | None = None, registry=None):
        self._fetch = call or self.default_call
        self._registry = registry
        self.messages: list[str] = []

    @staticmethod
    def default_call(key: str) -> pd.DataFrame:
        raise NotImplementedError

    def fetch(self, key: str) -> Any:
        return self._fetch(key)


def state_path(cache_dir: str | Path, source: str) -> Path:
    """``<cache_dir>/feeds/<source>.json``."""
    return Path(cache_dir) / "feeds" / f"{source}.json"


@dataclass
class FeedState:
    """Which keys of a feed are done / failed (see module docstring for the file format)."""

    path: Path
    done: dict[str, dict] = field(default_factory=dict)
    failed: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> "FeedState":
        path = Path(path)
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: feed state is not readable JSON ({exc}); delete it to start over") from exc
        return cls(path, dict(data.get("done", {})), dict(data.get("failed", {})))

    def save(self) -> None:
        """Atomic rewrite under a lock (``<file>.lock``)."""
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock"):
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"version": 1, "done": self.done, "failed": self.failed}, ensure_ascii=False,
                                      indent=1), encoding="utf-8")
            os.replace(tmp, self.path)


@dataclass
class FeedReport:
    """What one run did: keys fetched / skipped (done before) / failed, rows read and rows new to the store."""

    source: str
    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    new_rows: int = 0
    stopped: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stopped


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def run_feed(feed: Feed, keys: Iterable[str], sink: Callable[[pd.DataFrame, str], int], *,
             cache_dir: str | Path, min_interval: float = 1.0, retries: int = 2, backoff: float = 1.0,
             progress: Callable[[int, int, str], None] | None = None,
             sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
             redo: bool = False) -> FeedReport:
    """Fetch every key not done yet (see module docstring); ``redo`` fetches done keys again.

    ``min_interval`` (seconds between calls), ``retries`` (extra attempts on transient errors), ``backoff`` (first
    wait, doubled each retry); ``progress(done, total, key)`` after each key; ``sleep``/``clock`` are injectable for
    tests.
    """
    state = FeedState.load(state_path(cache_dir, feed.name))
    keys = list(dict.fromkeys(keys))
    report = FeedReport(feed.name)
    todo = [k for k in keys if redo or k not in state.done]
    report.skipped = [k for k in keys if k not in todo]
    last_call: float | None = None
    for i, key in enumerate(todo, start=1):
        error: str | None = None
        frame: pd.DataFrame | None = None
        for attempt in range(retries + 1):
            if last_call is not None:
                wait = min_interval - (clock() - last_call)
                if wait > 0:
                    sleep(wait)
            last_call = clock()
            try:
                frame = feed.convert(feed.fetch(key), key)
                error = None
                break
            except FeedFormatError as exc:
                report.stopped = str(exc)
                state.failed[key] = {"error": str(exc), "attempts": attempt + 1, "at": _now()}
                state.save()
                return report
            except Exception as exc:  # transient: network, time-out, server error
                error = f"{type(exc).__name__}: {exc}"
                if attempt < retries:
                    sleep(backoff * 2 ** attempt)
        if error is not None or frame is None:
            report.failed[key] = error or "no answer"
            previous = state.failed.get(key, {}).get("attempts", 0)
            state.failed[key] = {"error": report.failed[key], "attempts": previous + retries + 1, "at": _now()}
        else:
            new = sink(frame, f"feed:{feed.name}") if len(frame) else 0
            report.rows += len(frame)
            report.new_rows += new
            report.fetched.append(key)
            state.done[key] = {"rows": int(len(frame)), "new": int(new), "at": _now()}
            state.failed.pop(key, None)
        state.save()
        if progress is not None:
            progress(i, len(todo), key)
    return report
