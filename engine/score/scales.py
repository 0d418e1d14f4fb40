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

__all__ = ["Band", "ScaleLookup", "registry_scale_lookup", "realised_rating", "realised_ratings", "realised_rating_codes",
           "scale_from_signals",
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
    """Vectorised :func:`realised_rating` per row (object array of strings; ``""`` when the scale is unknown).

    The lookup is called once per distinct (broker, market) (see :func:`realised_rating_codes`)."""
    broker_codes, broker_uniques = pd.factorize(np.asarray(brokers, dtype=object), use_na_sentinel=False)
    market_codes, market_uniques = pd.factorize(np.asarray(markets, dtype=object), use_na_sentinel=False)
    codes, labels = realised_rating_codes(excess, broker_codes, np.asarray(broker_uniques, dtype=object),
                                          market_codes, np.asarray(market_uniques, dtype=object), lookup)
    return np.asarray(labels, dtype=object)[codes] if len(codes) else np.full(0, "", dtype=object)


def realised_rating_codes(excess: np.ndarray, broker_codes: np.ndarray, brokers: np.ndarray,
                          market_codes: np.ndarray, markets: np.ndarray,
                          lookup: ScaleLookup) -> tuple[np.ndarray, np.ndarray]:
    """:func:`realised_ratings` on integer codes: ``(codes, labels)`` with ``labels[codes]`` the realised rating per
    row (``labels[0] == ""``: no band, NaN excess or unknown scale). ``broker_codes``/``market_codes`` index
    ``brokers``/``markets``; the lookup is called once per distinct pair; rows are visited pair by pair (one sort)."""
    excess = np.asarray(excess, dtype=float)
    out = np.zeros(len(excess), dtype=np.int64)
    labels: dict[str, int] = {"": 0}
    if len(excess) == 0:
        return out, np.array([""], dtype=object)
    width = max(len(markets), 1)
    key = np.asarray(broker_codes, dtype=np.int64) * width + np.asarray(market_codes, dtype=np.int64)
    from engine.kernels.ordering import stable_order_nb

    order = stable_order_nb(key, max(len(brokers), 1) * width)
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    stops = np.r_[starts[1:], len(order)]
    for a, b in zip(starts, stops):
        k = sorted_key[a]
        bands = lookup(str(brokers[k // width]), str(markets[k % width]))
        if not bands:
            continue
        rows = order[a:b]
        x = excess[rows]
        todo = np.isfinite(x)
        for rating, low, high in bands:
            ok = todo.copy()
            if low is not None and not math.isnan(low):
                ok &= x >= low
            if high is not None and not math.isnan(high):
                ok &= x <= high
            out[rows[ok]] = labels.setdefault(str(rating), len(labels))
            todo &= ~ok
    return out, np.array(list(labels), dtype=object)


def scale_from_signals(signals: pd.DataFrame) -> dict[str, list[Band]]:
    """Scales implied by a signals table: per broker, the distinct ``(rating, band_low, band_high)`` of rated rows.

    Ordered by ``rating_level`` (most bullish first), then by ``band_low``. Only ratings that occur in the table are
    known this way, so the realised band may be ``""`` for an excess outside all of them.
    """
    from engine.score.columns import factorize_strings

    mask = ((signals["kind"] == "rating") & (signals["band_low"].notna() | signals["band_high"].notna())).to_numpy()
    broker_codes, brokers = factorize_strings(signals["broker"])
    rating_codes, ratings = factorize_strings(signals["rating"])
    level = signals["rating_level"].to_numpy(dtype=float)
    low = signals["band_low"].to_numpy(dtype=float)
    high = signals["band_high"].to_numpy(dtype=float)
    # candidate rows: the first row of each (broker, rating) and every row whose (level, low, high) differs from
    # that first row's (rare); the full de-duplication below then runs on a few rows instead of the whole table
    rows = np.flatnonzero(mask)
    pair, pairs = pd.factorize(broker_codes[rows] * (len(ratings) + 1) + rating_codes[rows])
    first = np.full(len(pairs), len(rows), dtype=np.int64)
    np.minimum.at(first, pair, np.arange(len(rows), dtype=np.int64))
    differs = np.zeros(len(rows), dtype=bool)
    for values in (level[rows], low[rows], high[rows]):
        ref = values[first[pair]] if len(rows) else values
        differs |= ~((values == ref) | (np.isnan(values) & np.isnan(ref)))
    keep = np.zeros(len(rows), dtype=bool)
    keep[first] = True
    rows = rows[keep | differs]
    keys = pd.DataFrame({"broker": broker_codes[rows], "rating": rating_codes[rows], "rating_level": level[rows],
                         "band_low": low[rows], "band_high": high[rows]})
    broker_keys = np.array([normalize_broker(b) for b in brokers], dtype=object)
    keys["broker_key"] = broker_keys[keys["broker"].to_numpy()]
    keys["rating"] = ratings[keys["rating"].to_numpy()]
    keys = keys.drop_duplicates(["broker_key", "rating", "band_low", "band_high"])
    keys = keys.assign(_lvl=keys["rating_level"].fillna(-99), _low=keys["band_low"].fillna(-np.inf))
    keys = keys.sort_values(["_lvl", "_low"], ascending=[False, False], kind="stable")
    out: dict[str, list[Band]] = {}
    for broker, rating, low, high in zip(keys["broker_key"].to_numpy(), keys["rating"].to_numpy(),
                                         keys["band_low"].to_numpy(dtype=float), keys["band_high"].to_numpy(dtype=float)):
        out.setdefault(str(broker), []).append(Band(rating, float(low), float(high)))
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
