"""Registry entries proposed from a folder of reports, and the coverage of a ratings file by the registry.

:func:`propose_entries` reads every report (``.txt``/``.md``/``.pdf``), finds its broker
(:func:`engine.signals.brokers.detect_broker_name`), its date and its own 评级说明
(:func:`engine.signals.scales.parse_scale_section`), and groups the scales per broker in date order: consecutive
reports with the same definitions (bands, horizon, benchmark as printed, scale type) make one *version* with
``valid_from`` = the first report's date and ``source`` = that report. A broker with more than one version changed its
definitions; :func:`version_changes` says what changed. Scales with fewer than three stock bands are partial reads
and are only used when a broker has nothing better.

:func:`ratings_coverage` counts, in a ratings table, the ratings whose broker has a registry scale on the rating's
date (and, stricter, whose rating word is one of that scale's words).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.signals.brokers import detect_broker_name, normalize_broker_text
from engine.signals.dates import find_dates
from engine.signals.scales import RatingScale, ScaleRegistry, compare_scales, parse_scale_section
from engine.signals.text import PDF_SUFFIXES, TEXT_SUFFIXES, ReportReadError, read_report_text

__all__ = ["ReportScale", "BrokerProposal", "propose_entries", "version_changes", "report_date_guess",
           "ratings_coverage", "Coverage", "scale_signature"]


@dataclass
class ReportScale:
    path: str
    broker: str
    date: dt.date | None
    scale: RatingScale


@dataclass
class BrokerProposal:
    broker: str
    versions: list[RatingScale] = field(default_factory=list)
    reports: int = 0
    partial: int = 0


def report_date_guess(text: str, latest: dt.date | None = None) -> dt.date | None:
    """The report's date for ordering versions: the latest full date printed (dates under 相关研究 are older and
    forecast years are not full dates), ignoring dates after ``latest`` (default: today)."""
    latest = latest or dt.date.today()
    dates = [d for _, d in find_dates(text) if dt.date(1990, 1, 1) <= d <= latest]
    return max(dates) if dates else None


def scale_signature(scale: RatingScale) -> tuple:
    """What makes two versions the same definitions: bands, horizon, benchmark as printed, type (both parts)."""
    out = []
    for part in (scale.stock, scale.industry):
        if part is None:
            out.append(None)
            continue
        out.append((part.horizon_months, part.scale_type, tuple(sorted(part.benchmarks_promised.items())),
                    tuple((b.rating, b.low, b.high) for b in part.bands)))
    return tuple(out)


def _complete(scale: RatingScale) -> bool:
    return scale.stock is not None and len(scale.stock.bands) >= 3


def read_report_scales(paths: list[Path], book, root: Path | None = None,
                       errors: list[str] | None = None) -> list[ReportScale]:
    """Broker, date and own scale of each report that prints one (unreadable files are named in ``errors``)."""
    out: list[ReportScale] = []
    for path in paths:
        try:
            text = read_report_text(path)
        except (ReportReadError, OSError, UnicodeDecodeError) as exc:
            if errors is not None:
                errors.append(f"{path}: {exc}")
            continue
        scale = parse_scale_section(text)
        if scale is None or (scale.stock is None and scale.industry is None):
            continue
        broker = detect_broker_name(text, book)
        if not broker:
            if errors is not None:
                errors.append(f"{path}: rating definitions found but no broker named; skipped")
            continue
        shown = str(path.relative_to(root)) if root is not None and path.is_relative_to(root) else str(path)
        out.append(ReportScale(shown, broker, report_date_guess(text), scale))
    return out


def propose_entries(reports: list[ReportScale], min_reports: int = 2) -> dict[str, BrokerProposal]:
    """Dated versions per broker (module docstring).

    A reading seen in fewer than ``min_reports`` reports that sits between two reports with the same other
    definitions is left out (a misread, or another broker's report); each version's ``notes`` says in how many
    reports it was seen.
    """
    by_broker: dict[str, list[ReportScale]] = {}
    for rep in reports:
        by_broker.setdefault(rep.broker, []).append(rep)
    out: dict[str, BrokerProposal] = {}
    for broker, reps in sorted(by_broker.items()):
        reps = sorted(reps, key=lambda r: (r.date or dt.date.min, r.path))
        complete = [r for r in reps if _complete(r.scale)]
        use = complete or reps
        seen = Counter(scale_signature(r.scale) for r in use)
        sigs = [scale_signature(r.scale) for r in use]
        # an isolated reading between two reports with the same other definitions is a misread (or another
        # broker's report): dropped when seen fewer than ``min_reports`` times
        use = [r for i, r in enumerate(use) if not (
            seen[sigs[i]] < min_reports and 0 < i < len(use) - 1 and sigs[i - 1] == sigs[i + 1] != sigs[i])]
        prop = BrokerProposal(broker=broker, reports=len(reps), partial=len(reps) - len(complete))
        last_sig = None
        for rep in use:
            sig = scale_signature(rep.scale)
            if sig == last_sig:
                continue
            last_sig = sig
            note = f"definitions seen in {seen[sig]} of {len(reps)} report(s) of this broker in the folder"
            prop.versions.append(rep.scale.model_copy(update={
                "broker": broker, "source": rep.path, "as_of": rep.date, "valid_from": rep.date,
                "notes": "; ".join(x for x in (rep.scale.notes, note) if x)}))
        out[broker] = prop
    return out


def version_changes(prop: BrokerProposal) -> list[str]:
    """What changed between consecutive versions of one broker (``compare_scales`` wording, dated)."""
    lines = []
    for old, new in zip(prop.versions, prop.versions[1:]):
        diffs = compare_scales(new, old)
        for part_name in ("stock", "industry"):
            a, b = getattr(old, part_name), getattr(new, part_name)
            if a is not None and b is not None and a.benchmarks_promised != b.benchmarks_promised:
                diffs.append(f"{part_name} benchmark {a.benchmarks_promised} → {b.benchmarks_promised}")
            if a is not None and b is not None and a.scale_type != b.scale_type:
                diffs.append(f"{part_name} scale type {a.scale_type} → {b.scale_type}")
        diffs = [d.replace(" in report vs ", " (new) vs ").replace(" in registry", " (old)") for d in diffs]
        lines.append(f"{prop.broker} {old.as_of} ({old.source}) → {new.as_of} ({new.source}): "
                     + ("; ".join(diffs) if diffs else "same bands, other wording"))
    return lines


@dataclass
class Coverage:
    total: int
    with_scale: int
    word_in_scale: int
    without: list[tuple[str, int]]
    word_missing: list[tuple[str, str, int]]

    @property
    def share(self) -> float:
        return self.with_scale / self.total if self.total else float("nan")

    @property
    def share_words(self) -> float:
        return self.word_in_scale / self.total if self.total else float("nan")


def ratings_coverage(frame: pd.DataFrame, registry: ScaleRegistry, *, broker_col: str = "broker",
                     date_col: str = "report_date", rating_col: str = "rating") -> Coverage:
    """Share of ratings whose broker has a registry scale on the rating's date (see module docstring; the version is
    chosen with the rating word, :meth:`ScaleRegistry.scale_for`).

    Rating words are compared after the risk suffix and traditional characters are normalised
    (:func:`engine.signals.structured.normalize_rating`).
    """
    from engine.signals.structured import normalize_rating

    keys = frame[[broker_col, date_col, rating_col]].astype(str)
    counts = keys.value_counts(sort=False)
    with_scale = word_in = 0
    without: Counter[str] = Counter()
    missing: Counter[tuple[str, str]] = Counter()
    for (broker, date, rating), n in counts.items():
        word = normalize_rating(rating)[0]
        scale = registry.scale_for(broker, date, word)
        if scale is None or scale.stock is None:
            without[normalize_broker_text(broker)] += int(n)
            continue
        with_scale += int(n)
        if scale.stock.band(word) is not None:
            word_in += int(n)
        else:
            missing[(registry.entity(broker, date), word)] += int(n)
    return Coverage(total=int(len(frame)), with_scale=with_scale, word_in_scale=word_in,
                    without=without.most_common(),
                    word_missing=[(b, w, n) for (b, w), n in missing.most_common()])


def report_paths(folder: Path) -> list[Path]:
    """Report files under ``folder`` (recursive), sorted; hidden files and README skipped."""
    suffixes = set(TEXT_SUFFIXES) | set(PDF_SUFFIXES)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                  and not p.name.startswith(".") and not p.stem.lower().startswith("readme"))
