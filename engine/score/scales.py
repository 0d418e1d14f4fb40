"""Broker rating scales for the *realised band*: which rating of the broker's own scale an excess return fell into.

A scale is a list of :class:`Band` ``(rating, low, high)``: excess-return bounds as fractions (0.15 = 15 %), NaN for
an open end, listed from the most bullish rating down. The lookup is pluggable: :func:`realised_rating` takes the bands
themselves, and :func:`run_scoring <engine.score.run_scoring>` takes a ``scale_lookup(broker, market) -> bands | None``
callable. The default lookup (:func:`default_scale_lookup`) tries, in order:

1. the broker's *stock* scale in the registry of the ingest stage (``configs/ratings/*.yaml`` read by
   :func:`engine.signals.scales.load_registry`; broker aliases resolved there);
2. the scale implied by the signals table itself (distinct ``rating, band_low, band_high`` of that broker's rated rows),
   for brokers missing from the registry.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd

__all__ = ["Band", "ScaleLookup", "registry_scale_lookup", "realised_rating", "realised_ratings", "scale_from_signals",
           "default_scale_lookup", "normalize_broker"]

NAN = float("nan")


class Band(NamedTuple):
    """One rating of a scale: excess return vs the benchmark in ``[low, high]`` (fractions; NaN = open end)."""

    rating: str
    low: float
    high: float


#: ``scale_lookup(broker, market)`` → the broker's bands for that market (``"A"`` / ``"HK"``), or ``None`` if unknown.
ScaleLookup = Callable[[str, str], "Sequence[Band] | None"]

def normalize_broker(name: str) -> str:
    """Broker name key: trimmed, full-width brackets to ASCII, inner spaces removed (``平安证券（香港）`` → ``平安证券(香港)``)."""
    return re.sub(r"\s+", "", str(name)).replace("（", "(").replace("）", ")")


def realised_rating(excess: float, scale_bands: Sequence[Band] | Sequence[tuple[str, float, float]]) -> str:
    """The first rating (scale order, most bullish first) whose ``[low, high]`` contains ``excess``; ``""`` if none.

    ``excess`` is a fraction. NaN bounds are open ends; NaN ``excess`` or an empty scale give ``""``. Bounds are
    inclusive, so a value exactly on a boundary goes to the more bullish rating listed first (15 % → 推荐 at 民生证券).
    """
    if excess is None or (isinstance(excess, float) and math.isnan(excess)):
        return ""
    for rating, low, high in scale_bands:
        if low is not None and not math.isnan(low) and excess < low:
            continue
        if high is not None and not math.isnan(high) and excess > high:
            continue
        return str(rating)
    return ""


def realised_ratings(excess: np.ndarray, brokers: np.ndarray, markets: np.ndarray,
                     lookup: ScaleLookup) -> np.ndarray:
    """Vectorised :func:`realised_rating` per row (object array of strings; ``""`` when the scale is unknown)."""
    out = np.full(len(excess), "", dtype=object)
    excess = np.asarray(excess, dtype=float)
    keys = pd.MultiIndex.from_arrays([np.asarray(brokers, dtype=object).astype(str),
                                      np.asarray(markets, dtype=object).astype(str)])
    codes, uniques = pd.factorize(keys)
    for g, key in enumerate(uniques):
        bands = lookup(*key)
        if not bands:
            continue
        rows = np.flatnonzero(codes == g)
        x = excess[rows]
        todo = np.isfinite(x)
        for rating, low, high in bands:
            ok = todo.copy()
            if low is not None and not math.isnan(low):
                ok &= x >= low
            if high is not None and not math.isnan(high):
                ok &= x <= high
            out[rows[ok]] = str(rating)
            todo &= ~ok
    return out


def scale_from_signals(signals: pd.DataFrame) -> dict[str, list[Band]]:
    """Scales implied by a signals table: per broker, the distinct ``(rating, band_low, band_high)`` of rated rows.

    Ordered by ``rating_level`` (most bullish first), then by ``band_low``. Only ratings that occur in the table are
    known this way, so the realised band may be ``""`` for an excess outside all of them.
    """
    rated = signals[(signals["kind"] == "rating") & (signals["band_low"].notna() | signals["band_high"].notna())]
    rated = rated[["broker", "rating", "rating_level", "band_low", "band_high"]].drop_duplicates()
    out: dict[str, list[Band]] = {}
    names = rated["broker"].astype(str)
    keys = names.map({b: normalize_broker(b) for b in pd.unique(names)})
    for broker, grp in rated.groupby(keys, sort=False):
        dedup = grp.drop_duplicates(["rating", "band_low", "band_high"])
        order = dedup.assign(_lvl=dedup["rating_level"].fillna(-99), _low=dedup["band_low"].fillna(-np.inf))
        order = order.sort_values(["_lvl", "_low"], ascending=[False, False])
        out[str(broker)] = [Band(r.rating, float(r.band_low), float(r.band_high)) for r in order.itertuples()]
    return out


def registry_scale_lookup(directory: str | Path | None = None) -> ScaleLookup:
    """Lookup over the ingest stage's scale registry (``configs/ratings``; ``directory`` overrides it)."""
    from engine.signals.scales import load_registry

    registry = load_registry(directory)

    def lookup(broker: str, market: str) -> Sequence[Band] | None:
        scale = registry.get(broker)
        if scale is None or scale.stock is None or not scale.stock.bands:
            return None
        return [Band(b.rating, NAN if b.low is None else float(b.low), NAN if b.high is None else float(b.high))
                for b in scale.stock.bands]

    return lookup


def default_scale_lookup(signals: pd.DataFrame | None = None,
                         registry_dir: str | Path | None = None) -> ScaleLookup:
    """The default chain: registry stock scale → scale implied by ``signals`` (see module docstring)."""
    inferred = scale_from_signals(signals) if signals is not None and len(signals) else {}
    registry = registry_scale_lookup(registry_dir)

    def lookup(broker: str, market: str) -> Sequence[Band] | None:
        return registry(broker, market) or inferred.get(normalize_broker(broker))

    return lookup
