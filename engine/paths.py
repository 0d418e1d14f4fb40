"""Where things live on disk: the price cache, the shared read-only data, run outputs.

Every path can be overridden by an environment variable so tests and users can point elsewhere:
``RATINGBT_CACHE`` (default ``./data_cache``), ``RATINGBT_SHARED`` (default ``../shared`` next to the repository),
``RATINGBT_RUNS`` (default ``./runs``).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    """The local price cache directory (created on first write, not here)."""
    return Path(os.environ.get("RATINGBT_CACHE", "data_cache"))


def shared_dir() -> Path:
    """The read-only shared folder with seeds and real price data; may not exist."""
    env = os.environ.get("RATINGBT_SHARED")
    if env:
        return Path(env)
    return (REPO_ROOT / ".." / "shared").resolve()


def runs_dir() -> Path:
    """Where run directories (``runs/<name>/``) are written."""
    return Path(os.environ.get("RATINGBT_RUNS", "runs"))
