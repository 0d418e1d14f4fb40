"""Ingest reports and structured rating files into one signals table.

:func:`ingest_paths` steps:

1. :func:`expand_paths` — files, directories (recursively: ``.txt``/``.md``/``.pdf``/``.csv``, skipping hidden files
   and ``README.*``) and globs, sorted, each once; a path matching nothing gives an ``error`` message.
2. Per file: a ratings CSV (:func:`engine.signals.structured.signals_from_ratings_csv`) or a report
   (:func:`engine.signals.text.read_report_text` → :func:`engine.signals.extract.extract_report`). A file that cannot
   be read at all gives a :class:`FileResult` with ``readable=False`` and an ``error`` message; the others go on.
3. :func:`engine.signals.history.dedupe_signals` then :func:`engine.signals.history.derive_actions`.
"""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.signals.brokers import fill_broker_group
from engine.signals.extract import Message, extract_report
from engine.signals.history import dedupe_signals, derive_actions
from engine.signals.scales import ScaleRegistry, load_registry
from engine.signals.schema import SIGNAL_COLUMNS, coerce_signals, empty_signals
from engine.signals.security_master import SecurityMaster, load_security_master
from engine.signals.structured import is_ratings_csv, signals_from_ratings_csv
from engine.signals.text import PDF_SUFFIXES, TEXT_SUFFIXES, ReportReadError, read_report

__all__ = ["FileResult", "IngestResult", "expand_paths", "ingest_paths", "ingest_texts", "REPORT_SUFFIXES"]

REPORT_SUFFIXES = TEXT_SUFFIXES + PDF_SUFFIXES + (".csv",)


@dataclass
class FileResult:
    """Summary of one input file (one line of the CLI table)."""

    path: str
    readable: bool = True
    kind: str = "report"  # report | ratings-csv | missing
    broker: str = ""
    report_date: dt.date | None = None
    date_inferred: bool = False
    report_type: str = ""
    n_ratings: int = 0
    n_mentions: int = 0
    messages: list[Message] = field(default_factory=list)


@dataclass
class IngestResult:
    signals: pd.DataFrame
    files: list[FileResult]

    @property
    def unreadable(self) -> list[FileResult]:
        return [f for f in self.files if not f.readable]


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[FileResult]]:
    """Resolve files / directories / globs to report files; unmatched paths become error results."""
    found: list[Path] = []
    missing: list[FileResult] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            found.append(p)

    for raw in paths:
        text = str(raw)
        p = Path(text)
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if (child.is_file() and child.suffix.lower() in REPORT_SUFFIXES and not child.name.startswith(".")
                        and not child.stem.lower().startswith("readme")):
                    add(child)
        elif p.exists():
            add(p)
        elif any(ch in text for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                missing.append(FileResult(path=text, readable=False, kind="missing",
                                          messages=[Message("error", f"{text}: no file matches this pattern")]))
            for m in files:
                add(m)
        else:
            missing.append(FileResult(path=text, readable=False, kind="missing",
                                      messages=[Message("error", f"{text}: file not found")]))
    return found, missing


def _ingest_text(text: str, source: str, registry: ScaleRegistry, master: SecurityMaster,
                 result: FileResult) -> list[dict]:
    rep = extract_report(text, source, registry, master)
    result.broker, result.report_date, result.date_inferred = rep.broker, rep.report_date, rep.date_inferred
    result.report_type, result.n_ratings, result.n_mentions = rep.report_type, rep.n_ratings, rep.n_mentions
    result.messages.extend(rep.messages)
    return rep.rows


def _finish(rows: list[dict], frames: list[pd.DataFrame], files: list[FileResult],
            first_as_initiate: bool) -> IngestResult:
    """One DataFrame from all report rows (built once: per-file frames cost more than the extraction)."""
    parts = [coerce_signals(pd.DataFrame(rows, columns=SIGNAL_COLUMNS))] if rows else []
    parts += [f for f in frames if len(f)]
    if parts:
        signals = coerce_signals(pd.concat(parts, ignore_index=True)) if len(parts) > 1 else parts[0]
        signals = derive_actions(dedupe_signals(signals), first_as_initiate=first_as_initiate)
    else:
        signals = empty_signals()
    return IngestResult(signals=signals, files=files)


def ingest_paths(
    paths: Iterable[str | Path],
    *,
    registry: ScaleRegistry | None = None,
    master: SecurityMaster | None = None,
    first_as_initiate: bool = False,
    progress: Callable[[str], None] | None = None,
    column_map: dict[str, str] | None = None,
) -> IngestResult:
    """Ingest every file under ``paths`` (see module docstring). ``column_map`` names ratings-CSV columns
    (:func:`engine.signals.structured.map_columns`); ``broker_group`` is filled by
    :func:`engine.signals.brokers.fill_broker_group`."""
    registry = registry if registry is not None else load_registry()
    master = master if master is not None else load_security_master()
    files, results = expand_paths(paths)
    frames: list[pd.DataFrame] = []
    rows: list[dict] = []
    for path in files:
        result = FileResult(path=str(path))
        results.append(result)
        if progress is not None:
            progress(str(path))
        if path.suffix.lower() == ".csv":
            if not is_ratings_csv(path, column_map):
                result.readable, result.kind = False, "ratings-csv"
                result.messages.append(Message("error", f"{path}: CSV without the ratings columns "
                                                        "broker, report_date, code, rating (or their usual names, "
                                                        "e.g. 机构, 发布日期, 股票代码, 投资评级; map others with "
                                                        "--map COLUMN=NAME)"))
                continue
            result.kind = "ratings-csv"
            try:
                frame, messages = signals_from_ratings_csv(path, registry, column_map)
            except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
                result.readable = False
                result.messages.append(Message("error", str(exc)))
                continue
            result.messages.extend(messages)
            result.n_ratings = int((frame["kind"] == "rating").sum())
            result.n_mentions = int((frame["kind"] == "mention").sum())
            brokers = sorted(set(frame["broker"]))
            result.broker = brokers[0] if len(brokers) == 1 else f"{len(brokers)} brokers"
            frames.append(frame)
            continue
        try:
            report = read_report(path)
        except ReportReadError as exc:
            result.readable = False
            result.messages.append(Message("error", str(exc)))
            continue
        result.messages.extend(Message(level, text) for level, text in report.messages)  # PDF pages' notes
        rows.extend(_ingest_text(report.text, str(path), registry, master, result))
    out = _finish(rows, frames, results, first_as_initiate)
    fill_broker_group(out.signals, registry)
    return out


def ingest_texts(
    texts: Iterable[tuple[str, str]],
    *,
    registry: ScaleRegistry | None = None,
    master: SecurityMaster | None = None,
    first_as_initiate: bool = False,
) -> IngestResult:
    """Ingest in-memory ``(source, text)`` pairs (same rules as files; used by the benchmark and tests)."""
    registry = registry if registry is not None else load_registry()
    master = master if master is not None else load_security_master()
    rows: list[dict] = []
    results = []
    for source, text in texts:
        result = FileResult(path=source)
        results.append(result)
        rows.extend(_ingest_text(text, source, registry, master, result))
    out = _finish(rows, [], results, first_as_initiate)
    fill_broker_group(out.signals, registry)
    return out
