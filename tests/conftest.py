"""Shared fixtures. Tests never touch the network; real-data tests skip when ../shared is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.paths import shared_dir


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only ``../shared`` folder (seeds, prices, market file); skips the test when absent."""
    root = shared_dir()
    if not (root / "data" / "prices").is_dir():
        pytest.skip(f"../shared not found at {root} (set RATINGBT_SHARED to point at it)")
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own empty price cache and runs directory; nothing leaks into the repo's data_cache/."""
    monkeypatch.setenv("RATINGBT_CACHE", str(tmp_path / "data_cache"))
    monkeypatch.setenv("RATINGBT_RUNS", str(tmp_path / "runs"))
    from engine.data.chain import forget_unreachable

    forget_unreachable()  # providers marked unreachable by one test must not be skipped in the next
