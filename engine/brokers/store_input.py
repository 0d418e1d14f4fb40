"""Signals for ``ratingbt brokers --store``: the store's signals history (filled by ``ratingbt signals``)."""

from __future__ import annotations

import pandas as pd

from engine.brokers.inputs import SignalFilter, apply_generic_levels
from engine.signals.schema import coerce_signals

__all__ = ["signals_from_store"]


def signals_from_store(flt: SignalFilter, cache_dir: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Rated signals of the store (:func:`engine.data.store.open_store`) between ``flt.start`` and ``flt.end``
    (the other filters are applied later by :func:`engine.brokers.inputs.filter_signals`)."""
    try:
        from engine.data.store import open_store
    except ImportError as exc:  # the store is built on another branch
        raise ImportError("the signals store (engine.data.store) is not installed in this build; "
                          "use --ratings FILE") from exc
    with open_store(cache_dir) as store:
        frame = store.signals(start=flt.start, end=flt.end, kinds=["rating"])
    if frame is None or len(frame) == 0:
        raise ValueError("the store holds no rating in that period (fill it with `ratingbt signals import FILE` "
                         "or `ratingbt signals fetch`)")
    table, n_generic = apply_generic_levels(coerce_signals(frame))
    notes = [f"{len(frame)} ratings read from the store"]
    if n_generic:
        notes.append(f"{n_generic} ratings of brokers without a scale got a generic level (direction only, no band)")
    return table, notes
