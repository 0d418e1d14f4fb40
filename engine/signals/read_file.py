"""Reading a signals table a user gives (``--signals FILE``, ``signals.file``), with named problems.

A signals table is ``.csv`` (UTF-8, BOM allowed), ``.parquet`` or ``.json`` (records) with the columns of
:mod:`engine.signals.schema`. Date columns (``report_date``, ``price_date``) must hold ISO ``YYYY-MM-DD`` dates
(:mod:`engine.dates`): a cell such as ``2025-02-30``, ``yesterday`` or ``03-02-2026`` is never guessed; it becomes
"no date" and the reader returns one note per such cell naming the file, line (CSV: header = line 1) and column, so
each command can count and name the rows it could not use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["SignalsFile", "read_signals_file", "DATE_COLUMNS"]

DATE_COLUMNS = ("report_date", "price_date")


@dataclass
class SignalsFile:
    """A signals table as read: ``table`` (coerced to the schema; bad dates are NaT), ``bad_dates`` = row position →
    ``"<file>:<line>: report_date '2025-02-30' is not a calendar date"`` for every refused date cell."""

    table: "pd.DataFrame"
    bad_dates: dict[int, list[str]] = field(default_factory=dict)
    bad_report_date: set[int] = field(default_factory=set)

    def notes(self) -> list[str]:
        return [text for texts in self.bad_dates.values() for text in texts]


def read_signals_file(path: Path) -> SignalsFile:
    """Read and coerce a signals table; ``ValueError`` naming the file when it is missing, of an unknown format or
    lacks required columns. Date cells that are not ISO dates are listed in :attr:`SignalsFile.bad_dates`."""
    import pandas as pd

    from engine.dates import ISO_HINT, bad_date_rows
    from engine.signals.schema import coerce_signals

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such signals file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
            line_of = lambda i: i + 2  # noqa: E731 - header is line 1
        elif suffix in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
            line_of = lambda i: i + 1  # noqa: E731 - row number
        elif suffix == ".json":
            raw = pd.read_json(path, orient="records", dtype=False)
            line_of = lambda i: i + 1  # noqa: E731 - record number
        else:
            raise ValueError("unknown format (use .csv, .parquet or .json)")
    except (ValueError, OSError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    where = "line" if suffix == ".csv" else "row"
    bad_dates: dict[int, list[str]] = {}
    bad_report: set[int] = set()
    for column in DATE_COLUMNS:
        if column not in raw.columns:
            continue
        mask = bad_date_rows(raw[column]).to_numpy()
        for pos in mask.nonzero()[0]:
            value = raw[column].iloc[pos]
            bad_dates.setdefault(int(pos), []).append(
                f"{path.name}:{line_of(int(pos))}: {column} {str(value)!r} is not a date ({ISO_HINT})"
                if where == "line" else
                f"{path.name}, row {line_of(int(pos))}: {column} {str(value)!r} is not a date ({ISO_HINT})")
            if column == "report_date":
                bad_report.add(int(pos))
        if mask.any():
            raw[column] = raw[column].astype(object).where(~mask, None)
    try:
        table = coerce_signals(raw)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return SignalsFile(table=table, bad_dates=bad_dates, bad_report_date=bad_report)
