"""Split work into chunks and keep finished chunks on disk so an interrupted job resumes where it stopped.

- :func:`chunk_ranges` cuts ``n`` items into consecutive ranges (the last one shorter).
- :func:`default_chunk_size`: about ``per_worker`` chunks per worker, so a slow or lost chunk costs little and the
  progress bar moves, without paying the per-task overhead too often.
- :func:`fingerprint` hashes arrays and plain values (a finished chunk is reused only for the same inputs).
- :class:`ChunkStore`: ``<folder>/manifest.json`` (fingerprint, chunk count) and one ``NNNN.parquet`` per finished
  chunk, each written to a temporary file and moved into place with ``os.replace`` (a killed process leaves either
  the whole chunk or nothing). The driver is the only writer.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["chunk_ranges", "default_chunk_size", "fingerprint", "ChunkStore"]


def chunk_ranges(n: int, size: int) -> list[range]:
    """``[range(0, size), range(size, 2·size), …]`` covering ``0..n-1``; empty for ``n == 0``."""
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}")
    return [range(lo, min(lo + size, n)) for lo in range(0, n, size)]


def default_chunk_size(n: int, workers: int, per_worker: int = 4) -> int:
    """Chunk size giving about ``per_worker`` chunks per worker (one chunk, i.e. one call, with a single worker)."""
    if workers <= 1:
        return max(1, n)
    return max(1, math.ceil(n / (workers * per_worker)))


def fingerprint(*parts: Any) -> str:
    """16 hex digits of a hash over numpy arrays (dtype, shape, bytes), DataFrames/Series and JSON-able values."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(f"{part.dtype}{part.shape}".encode())
            h.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, (pd.Series, pd.DataFrame)):
            h.update(pd.util.hash_pandas_object(part, index=True).to_numpy().tobytes())
        elif isinstance(part, bytes):
            h.update(part)
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"|")
    return h.hexdigest()


class ChunkStore:
    """Finished chunks of one job under ``folder`` (e.g. ``runs/<name>/sweep_chunks/``)."""

    def __init__(self, folder: Path, key: str, n_chunks: int) -> None:
        self.folder, self.key, self.n_chunks = Path(folder), key, n_chunks
        self.note = ""

    def _path(self, k: int) -> Path:
        return self.folder / f"{k:04d}.parquet"

    def open(self) -> set[int]:
        """Chunk numbers already done for this key. Chunks of another job (other inputs) are removed, with a note."""
        manifest = self.folder / "manifest.json"
        wanted = {"key": self.key, "n_chunks": self.n_chunks}
        if manifest.is_file():
            try:
                found = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                found = {}
            if found == wanted:
                done = {k for k in range(self.n_chunks) if self._path(k).is_file()}
                if done:
                    self.note = f"resumed: {len(done)} of {self.n_chunks} chunks already done in {self.folder}"
                return done
            self.note = f"{self.folder}: chunks of a different sweep (other inputs) were discarded"
        self.clear()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._atomic_write(manifest, json.dumps(wanted).encode())
        return set()

    def save(self, k: int, frame: pd.DataFrame) -> None:
        """Write chunk ``k`` atomically."""
        tmp = self._path(k).with_suffix(f".tmp-{os.getpid()}")
        frame.to_parquet(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self._path(k))

    def load(self, k: int) -> pd.DataFrame:
        return pd.read_parquet(self._path(k))

    def clear(self) -> None:
        """Remove the folder (after the job's table is complete)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    @staticmethod
    def _atomic_write(path: Path, data: bytes) -> None:
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
