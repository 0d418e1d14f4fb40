"""A Chinese PDF's text → its signals: the line reading or the flat reading, whichever finds more of the report.

The text of a real PDF (:mod:`engine.signals.pdf`) has line structure, but its tables and sidebars are the cells a PDF
tool gives, much like the whitespace-stripped texts of the corpus (which came from PDF tools too). So
:func:`extract_pdf_text` runs both readings of :func:`engine.signals.extract.extract_report` — on the text as it is
(lines) and on the text with every whitespace removed (the flat reading) — and keeps the one that

1. rates more stocks; then
2. has more rated stocks with a price at report; else the line reading. When the line reading is kept, two of
   its report-level fields come from the flat reading: the publication date when the line reading found none and
   page 1 prints that date in its first 10 lines or on a line of its own (a header date, not an event date of the
   body), and the broker when the line
   reading's is the flat reading's with characters glued in front (``报告仅供德邦证券`` for ``德邦证券``, a
   disclaimer sentence read as a name).

The flat reading's choice is said in an ``info`` message. Measured on the 34 labelled Chinese PDFs of the corpus
(``bench/RESULTS.md``): the line reading alone found 2 of 44 rated stocks, the choice finds 43.
"""

from __future__ import annotations

import re

from engine.signals.scales import ScaleRegistry
from engine.signals.security_master import SecurityMaster

__all__ = ["extract_pdf_text"]


def _key(rep) -> tuple[int, int]:
    rated = [r for r in rep.rows if r["kind"] == "rating"]
    priced = sum(1 for r in rated if r["price_at_report"] == r["price_at_report"])  # not NaN
    return len(rated), priced


def _in_head(text: str, date) -> bool:
    """``date`` is printed on page 1 in its first 10 lines or on a line of its own (a template tag such as
    ``[Table_Date]`` or a short label aside): a header date, not an event date inside a sentence of the body."""
    y, m, d = date.year, date.month, date.day
    spellings = {f"{y}年{m}月{d}日", f"{y}年{m:02d}月{d:02d}日", f"{y}-{m:02d}-{d:02d}", f"{y}.{m:02d}.{d:02d}",
                 f"{y}/{m}/{d}", f"{y}/{m:02d}/{d:02d}", f"{y}.{m}.{d}", f"{y}{m:02d}{d:02d}"}
    for k, line in enumerate(ln for ln in text.split("\f", 1)[0].split("\n") if ln.strip()):
        flat = re.sub(r"\s+|\[Table_\w*\]|[|｜:：]", "", line)
        for spelling in spellings:
            if spelling in flat and (k < 10 or len(flat) - len(spelling) <= 10):
                return True
    return False


def extract_pdf_text(text: str, source: str, registry: ScaleRegistry, master: SecurityMaster):
    """The better of the line and the flat reading of a PDF's text (see module docstring)."""
    from engine.signals.extract import extract_report, make_signal_id

    lines = extract_report(text, source, registry, master, pdf_choice=False)
    flat_text = re.sub(r"\s+", "", text)
    if not flat_text:
        return lines
    flat = extract_report(flat_text, source, registry, master, pdf_choice=False)
    if _key(flat) > _key(lines):
        flat.info("PDF text read as flat text (its tables and sidebars read better without line breaks): "
                  f"{flat.n_ratings} rated stock(s) against {lines.n_ratings} in the line reading")
        return flat
    changed = False
    if flat.broker and lines.broker != flat.broker and lines.broker.endswith(flat.broker):
        old = lines.broker
        for m in lines.messages:
            m.text = m.text.replace(repr(old), repr(flat.broker))
        lines.info(f"broker {old!r} read as {flat.broker!r} (the flat reading's name)")
        lines.broker, changed = flat.broker, True
    if (lines.report_date is None and flat.report_date is not None and not flat.date_inferred
            and _in_head(text, flat.report_date)):
        lines.report_date, changed = flat.report_date, True
        lines.messages = [m for m in lines.messages if "report_date left empty" not in m.text]
        lines.info(f"publication date {flat.report_date} read from the flat reading")
    if changed:
        for row in lines.rows:
            key = row["code"] or row["name"]
            row["broker"] = row["broker_group"] = lines.broker
            row["report_date"] = lines.report_date
            row["signal_id"] = make_signal_id(lines.broker, key, lines.report_date, row["kind"])
    return lines
