"""Dates a user gives (CLI options, config values, date columns of a signals CSV): ISO ``YYYY-MM-DD`` only.

``03-02-2026`` could be 3 February or 2 March, and pandas would silently pick one; ``2025-02-30`` or ``yesterday``
would become NaT and the row would vanish later. Here such text is refused with a message naming the option or
the file, line and column. An ISO date may carry a midnight time (``2025-02-03 00:00:00``, ``2025-02-03T00:00``),
as some tools write it. No pandas import at module level (the CLI's ``--help`` must stay fast).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["DateError", "ISO_HINT", "parse_iso_date", "is_iso_date", "bad_date_rows"]

ISO_HINT = "write YYYY-MM-DD, e.g. 2026-02-27"
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")


class DateError(ValueError):
    """A date that is not an ISO ``YYYY-MM-DD`` calendar date; the message names where it came from."""


def _to_date(text: str) -> dt.date | None:
    match = _ISO.match(text.strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:  # 2025-02-30
        return None


def is_iso_date(text: object) -> bool:
    """True for an ISO calendar date (``2025-02-03``, optionally with a midnight time); False otherwise."""
    return isinstance(text, str) and _to_date(text) is not None


def parse_iso_date(text: str | dt.date | None, what: str) -> "pd.Timestamp | None":
    """``text`` as a midnight :class:`pandas.Timestamp`; ``None`` stays ``None``.

    Raises :class:`DateError` ``"<what> '03-02-2026' is not a date (write YYYY-MM-DD, …)"`` for anything
    else than an ISO calendar date (day-first or month-first forms, impossible days, words)."""
    if text is None:
        return None
    import pandas as pd

    if isinstance(text, dt.date):
        return pd.Timestamp(text).normalize()
    parsed = _to_date(str(text))
    if parsed is None:
        no_such_day = "no such day; " if _ISO.match(str(text).strip()) else ""
        raise DateError(f"{what} {str(text)!r} is not a date ({no_such_day}{ISO_HINT})")
    return pd.Timestamp(parsed)


def bad_date_rows(values: "pd.Series") -> "pd.Series":
    """Mask of the cells of a text column that hold something other than an ISO date or nothing.

    Empty cells (NaN, ``""``) are not bad: they mean "no date". Datetime columns (parquet) are never bad."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.Series(False, index=values.index)
    text = values.astype(object).where(values.notna(), "").map(
        lambda v: v.isoformat() if isinstance(v, (dt.date, pd.Timestamp)) else str(v).strip())
    return (text != "") & ~text.map(lambda v: _to_date(v) is not None)
