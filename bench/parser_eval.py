"""Compare parser output with the hand labels of ``../shared/corpus/labels`` (schema: ``corpus/LABELS.md``).

Importable (tests and the benchmark use it): :func:`load_labels`, :func:`evaluate_file`, :func:`summarize`.

A parsed report is anything with the attributes ``broker``, ``report_date`` (date or None), ``date_inferred``,
``industry_rating``, ``rows`` (signal dicts with the signals columns) and optionally ``industry_action`` — i.e. an
:class:`engine.signals.extract.ReportExtract`.

Matching rules (one place, so every figure uses the same reading):

- a label recommendation matches a parsed *rated* row by code (canonical, HK 4 or 5 digits alike); a label without
  a code matches by name (spaces, full-width forms and ``*ST``/``ST`` ignored);
- recall counts (code, rating) pairs: the row must carry the label's rating word (a risk suffix such as ``-A`` is not
  part of the word);
- a false positive is a rated row whose stock is not among the label's recommendations; those whose code is in the
  label's ``unrated_codes`` are counted again separately (``fp_unrated``);
- targets and prices are right within 0.5 % (or 0.005 absolute); they, actions and bands are scored over every
  labelled value (a missed stock counts as wrong), so ``target 18/21`` means 18 of the 21 labelled targets were read;
- bands: the label's scale bands (percent) for the row's rating vs the row's ``band_low``/``band_high`` (fractions);
  only numeric label bands count;
- date: over labels with a date; a printed (not inferred) date where the label has none counts in ``date_extra``;
- broker: the parsed broker equals the label's broker or one of its ``broker_alias`` (brackets normalised).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.symbols import SymbolError, normalize_symbol

__all__ = ["FileEval", "GroupSummary", "load_labels", "evaluate_file", "summarize", "label_group", "format_summary",
           "format_misses", "ACTION_CODES"]

ACTION_CODES = {"首次": "initiate", "维持": "reiterate", "上调": "upgrade", "下调": "downgrade"}


def _code(value: str | None) -> str | None:
    if not value:
        return None
    text = str(value).strip()
    try:
        return normalize_symbol(text)
    except (SymbolError, ValueError):
        return text.upper()


def _name(value: str | None) -> str:
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = re.sub(r"\s+", "", text)
    return re.sub(r"^\*?ST", "", text).upper()


def _broker(value: str | None) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).replace(" ", "").strip()


def _rating(value: str | None) -> str:
    text = unicodedata.normalize("NFKC", str(value or "")).strip().strip("“”\"'")
    return re.sub(r"[-－—]?[A-E]$", "", text).strip().lower()


def _num(value) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return False
    return abs(a - b) <= max(0.005, 0.005 * abs(b))


def load_labels(directory: str | Path) -> dict[str, dict]:
    """``id → label`` for every ``*.json`` in ``directory``."""
    out = {}
    for path in sorted(Path(directory).glob("*.json")):
        out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return out


def label_group(label: dict) -> str:
    """``stripped`` / ``pdf-zh`` / ``pdf-en``."""
    if label.get("format") == "stripped-text":
        return "stripped"
    return "pdf-en" if label.get("language") == "en" else "pdf-zh"


@dataclass
class FileEval:
    """One report against its label; every list holds short human-readable items for ``--misses``."""

    id: str
    group: str
    n_rated: int = 0
    n_found: int = 0
    n_fp: int = 0
    n_fp_unrated: int = 0
    n_wrong_rating: int = 0
    misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    field_errors: list[str] = field(default_factory=list)
    counts: dict[str, list[int]] = field(default_factory=dict)  # field → [right, labelled]

    def tally(self, name: str, right: bool) -> None:
        pair = self.counts.setdefault(name, [0, 0])
        pair[0] += int(right)
        pair[1] += 1


def _row_key(row: dict) -> tuple[str | None, str]:
    return _code(row.get("code")), _name(row.get("name"))


def evaluate_file(file_id: str, label: dict, parsed) -> FileEval:
    """Compare one parsed report with its label (see module docstring)."""
    ev = FileEval(id=file_id, group=label_group(label))
    rows = [r for r in (parsed.rows if parsed is not None else []) if r.get("kind") == "rating"]
    recs = label.get("recommendations") or []
    unrated = {_code(c) for c in label.get("unrated_codes") or []}
    used: set[int] = set()

    def find(rec: dict) -> int | None:
        code, name = _code(rec.get("code")), _name(rec.get("name"))
        for k, row in enumerate(rows):
            if k in used:
                continue
            rcode, rname = _row_key(row)
            if (code and rcode == code) or (not code and name and rname == name) or \
                    (code and not rcode and name and rname == name):
                return k
        return None

    scale = label.get("scale") or {}
    bands = (scale.get("bands") or {}) if isinstance(scale, dict) else {}
    for rec in recs:
        ev.n_rated += 1
        k = find(rec)
        row = rows[k] if k is not None else None
        if k is not None:
            used.add(k)
        who = f"{rec.get('code') or '-'} {rec.get('name') or ''}".strip()
        if row is None:
            ev.misses.append(f"missed {who} {rec.get('rating')}")
        elif _rating(row.get("rating")) != _rating(rec.get("rating")):
            ev.n_wrong_rating += 1
            ev.misses.append(f"rating {who}: {row.get('rating')!r} vs label {rec.get('rating')!r}")
        else:
            ev.n_found += 1
        for fld, key in (("target", "target_price"), ("price", "price_at_report")):
            want = _num(rec.get(key))
            if want is None:
                continue
            got = _num(row.get(key)) if row is not None else None
            ok = _close(got, want)
            ev.tally(fld, ok)
            if not ok and row is not None:
                ev.field_errors.append(f"{fld} {who}: {got} vs label {want}")
        want_action = ACTION_CODES.get(rec.get("rating_action") or "")
        if want_action:
            got = (row.get("action") or "") if row is not None else ""
            ev.tally("action", got == want_action)
            if row is not None and got != want_action:
                ev.field_errors.append(f"action {who}: {got or '-'} vs label {want_action}")
        band = bands.get(rec.get("rating")) if isinstance(bands, dict) else None
        if isinstance(band, list) and len(band) == 2 and all(b is None or isinstance(b, (int, float)) for b in band):
            got_low = _num(row.get("band_low")) if row is not None else None
            got_high = _num(row.get("band_high")) if row is not None else None
            ok = row is not None and all(
                (w is None and g is None) or (w is not None and g is not None and abs(g - w / 100) < 1e-6)
                for w, g in ((band[0], got_low), (band[1], got_high)))
            ev.tally("band", ok)
            if row is not None and not ok:
                ev.field_errors.append(f"band {who} {rec.get('rating')}: [{got_low}, {got_high}] vs label "
                                       f"{band} %")
    for k, row in enumerate(rows):
        if k in used:
            continue
        code, _ = _row_key(row)
        ev.n_fp += 1
        tag = " (in unrated_codes)" if code and code in unrated else ""
        if tag:
            ev.n_fp_unrated += 1
        ev.false_positives.append(f"false {row.get('code') or '-'} {row.get('name')} {row.get('rating')}{tag}")

    # ---- report-level fields
    want_date = label.get("date")
    got_date = getattr(parsed, "report_date", None) if parsed is not None else None
    got_date_s = got_date.isoformat() if got_date is not None else None
    if want_date:
        ok = got_date_s == want_date
        ev.tally("date", ok)
        if not ok:
            ev.field_errors.append(f"date {got_date_s} vs label {want_date}")
    elif got_date_s and not getattr(parsed, "date_inferred", False):
        ev.tally("date_extra", False)
        ev.field_errors.append(f"date {got_date_s} printed? label has none")
    want_broker = label.get("broker")
    if want_broker:
        names = {_broker(want_broker)} | {_broker(a) for a in label.get("broker_alias") or []}
        got = _broker(getattr(parsed, "broker", "") if parsed is not None else "")
        ok = bool(got) and got in names
        ev.tally("broker", ok)
        if not ok:
            ev.field_errors.append(f"broker {got or '-'} vs label {want_broker}")
    want_ind = label.get("industry_rating")
    if want_ind:
        got = getattr(parsed, "industry_rating", "") if parsed is not None else ""
        ok = _rating(got) == _rating(want_ind)
        ev.tally("industry_rating", ok)
        if not ok:
            ev.field_errors.append(f"industry_rating {got or '-'} vs label {want_ind}")
    return ev


@dataclass
class GroupSummary:
    group: str
    files: int = 0
    n_rated: int = 0
    n_found: int = 0
    n_fp: int = 0
    n_fp_unrated: int = 0
    n_wrong_rating: int = 0
    counts: dict[str, list[int]] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.n_found / self.n_rated if self.n_rated else math.nan

    @property
    def fp_per_100(self) -> float:
        """False positives per 100 labelled rated stocks."""
        return 100.0 * self.n_fp / self.n_rated if self.n_rated else math.nan

    def accuracy(self, name: str) -> float:
        right, total = self.counts.get(name, [0, 0])
        return right / total if total else math.nan


def summarize(evals: Iterable[FileEval]) -> dict[str, GroupSummary]:
    """Per-group totals (``stripped``, ``pdf-zh``, ``pdf-en``) plus ``all``."""
    out: dict[str, GroupSummary] = {}
    for ev in evals:
        for key in (ev.group, "all"):
            g = out.setdefault(key, GroupSummary(group=key))
            g.files += 1
            g.n_rated += ev.n_rated
            g.n_found += ev.n_found
            g.n_fp += ev.n_fp
            g.n_fp_unrated += ev.n_fp_unrated
            g.n_wrong_rating += ev.n_wrong_rating
            for name, (right, total) in ev.counts.items():
                pair = g.counts.setdefault(name, [0, 0])
                pair[0] += right
                pair[1] += total
    return out


FIELDS = ("date", "broker", "target", "price", "action", "industry_rating", "band")


def format_summary(groups: dict[str, GroupSummary]) -> str:
    """A plain-text table of the figures, one line per group."""
    head = f"{'group':<9}{'files':>6}{'rated':>7}{'found':>7}{'recall':>8}{'FP':>5}{'FP/100':>8}{'unrFP':>6}" \
           f"{'wrongR':>7}" + "".join(f"{f:>17}" for f in FIELDS) + f"{'date_extra':>11}"
    lines = [head]
    for key in ("stripped", "pdf-zh", "pdf-en", "all"):
        g = groups.get(key)
        if g is None:
            continue
        cells = []
        for f in FIELDS:
            right, total = g.counts.get(f, [0, 0])
            cells.append(f"{right}/{total} {100 * right / total:5.1f}%" if total else "—")
        extra = g.counts.get("date_extra", [0, 0])[1]
        lines.append(f"{key:<9}{g.files:>6}{g.n_rated:>7}{g.n_found:>7}{100 * g.recall:>7.1f}%{g.n_fp:>5}"
                     f"{g.fp_per_100:>8.2f}{g.n_fp_unrated:>6}{g.n_wrong_rating:>7}"
                     + "".join(f"{c:>17}" for c in cells) + f"{extra:>11}")
    return "\n".join(lines)


def format_misses(evals: Iterable[FileEval]) -> str:
    """Per file: missed pairs, wrong ratings, false positives and field errors."""
    out = []
    for ev in evals:
        items = ev.misses + ev.false_positives + ev.field_errors
        if items:
            out.append(f"[{ev.group}] {ev.id}: " + "; ".join(items))
    return "\n".join(out)
