"""Records of a feed → the signals table, through the ingest stage's structured reader.

:func:`records_to_signals` takes plain dicts with the ratings-CSV keys of :mod:`engine.signals.structured`
(``broker, report_date, code, rating, name, action, target_price, analysts, industry, previous_rating``) plus the
optional signals columns ``target_low``, ``target_high``, ``currency`` and ``evidence``; rows whose code or date
cannot be read are dropped first (and counted in the messages), so the reader keeps every remaining row in order and
the optional columns can be set by position.
"""

from __future__ import annotations

import math

import pandas as pd

from engine.signals.schema import coerce_signals, empty_signals
from engine.symbols import SymbolError, parse_symbol

__all__ = ["records_to_signals", "text", "number"]

_EXTRA = ("target_low", "target_high", "evidence")


def text(value) -> str:
    """Stripped text; ``""`` for None / NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def number(value) -> float:
    """A float, NaN for empty / unreadable / non-positive prices written as ``-`` or ``0``."""
    try:
        out = float(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def records_to_signals(records: list[dict], source: str, registry=None) -> tuple[pd.DataFrame, list[str]]:
    """Signals rows of ``records`` (see module docstring) and the reader's messages (plus dropped rows)."""
    from engine.signals.scales import load_registry
    from engine.signals.structured import signals_from_records

    registry = registry or load_registry()
    kept, dropped = [], {}
    for rec in records:
        try:
            parse_symbol(text(rec.get("code")))
        except SymbolError:
            dropped["unreadable code"] = dropped.get("unreadable code", 0) + 1
            continue
        if pd.isna(pd.to_datetime(text(rec.get("report_date")) or None, errors="coerce")):
            dropped["unreadable date"] = dropped.get("unreadable date", 0) + 1
            continue
        kept.append(rec)
    messages = [f"{source}: {n} rows dropped ({why})" for why, n in dropped.items()]
    if not kept:
        return empty_signals(), messages
    frame, msgs = signals_from_records(kept, registry, source)
    messages += [m.text for m in msgs]
    if len(frame) == len(kept):
        for col in _EXTRA:
            values = [rec.get(col) for rec in kept]
            if any(v is not None and text(v) != "" for v in values):
                frame[col] = values
        if any(text(rec.get("currency")) for rec in kept):
            frame["currency"] = [text(rec.get("currency")) or cur for rec, cur in zip(kept, frame["currency"])]
    return coerce_signals(frame), messages
