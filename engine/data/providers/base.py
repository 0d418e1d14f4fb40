"""The provider interface and the errors a provider raises.

A provider turns ``(canonical code, start date, end date)`` into a normalised bar frame
(:data:`engine.data.bars.BAR_COLUMNS`: adjusted OHLC, volume in shares, raw close, adjustment factor, source).
It must *raise* on failure — never return an empty or all-NaN frame — so that the fallback chain
(:mod:`engine.data.chain`) can retry it or move to the next provider. Dates are inclusive on both ends.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

import pandas as pd

from engine.data.bars import normalize_bars

__all__ = [
    "Provider", "ProviderError", "ProviderTimeout", "EmptyResult", "SchemaChanged", "NotSupported",
    "ProviderUnavailable", "finish_frame", "to_date",
]


class ProviderError(RuntimeError):
    """Base of provider failures. ``transient`` errors are retried by the chain; the others are not."""

    transient = True

    def __init__(self, message: str, *, transient: bool | None = None):
        super().__init__(message)
        if transient is not None:
            self.transient = transient


class ProviderTimeout(ProviderError):
    """The call did not return within the provider's timeout (seconds)."""


class EmptyResult(ProviderError):
    """The provider answered with no usable rows (empty frame, or every price NaN) for the range asked."""


class SchemaChanged(ProviderError):
    """The provider's frame lacks the columns we map (package update, endpoint change); not retried."""

    transient = False


class NotSupported(ProviderError):
    """The provider has no data for this kind of instrument (or the local file does not exist); not retried."""

    transient = False


class ProviderUnavailable(ProviderError):
    """The provider's package cannot be imported; not retried."""

    transient = False


@runtime_checkable
class Provider(Protocol):
    """What the chain calls. ``name`` is used in errors, the manifest and ``--provider``."""

    name: str

    def fetch(self, code: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Bars of canonical ``code`` for sessions ``start..end`` (inclusive), normalised; raises ProviderError."""
        ...


def to_date(value) -> dt.date:
    """A ``datetime.date`` from a date, Timestamp or ISO string (``2024-01-02`` or ``20240102``)."""
    return pd.Timestamp(value).date()


def finish_frame(df: pd.DataFrame, *, provider: str, code: str, start: dt.date, end: dt.date,
                 source: str) -> pd.DataFrame:
    """Normalise, clip to ``[start, end]``, drop rows without any price, and raise :class:`EmptyResult` if none remain."""
    out = normalize_bars(df, source=source)
    out = out[(out["date"] >= pd.Timestamp(start)) & (out["date"] <= pd.Timestamp(end))]
    out = out.dropna(subset=["open", "high", "low", "close"], how="all")
    out = out.dropna(subset=["close"])
    if out.empty:
        raise EmptyResult(f"{provider} returned no rows with prices for {code} {start}..{end}")
    return out.reset_index(drop=True)
