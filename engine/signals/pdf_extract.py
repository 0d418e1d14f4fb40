"""A Chinese PDF's text → its signals: the line reading or the flat reading, whichever finds more of the report.

The text of a real PDF (:mod:`engine.signals.pdf`) has line structure, but its tables and sidebars are the cells a PDF
tool gives, much like the whitespace-stripped texts of the corpus (which came from PDF tools too). So
:func:`extract_pdf_text` reads it both ways — line by line (``engine.signals.extract._extract_lines``) and with every
whitespace removed (the flat reading of :func:`engine.signals.extract.extract_report`) — and keeps the reading that

1. rates more stocks; then
2. has more rated stocks with a price at report; then
3. has any row when the line reading has none; else the line reading.

A *header date* is a date page 1 prints in its first 10 lines or on a line of its own (a ``[Table_Date]`` tag or a
short label aside), not an event date inside a sentence of the body. A flat reading that is kept keeps its
publication date only when it is a header date, else it takes the line reading's. A line reading that is kept takes
from the flat reading the publication date when it found none and the flat one is a header date, and the broker
when its own is the flat reading's with characters glued in front (``报告仅供德邦证券`` for ``德邦证券``: a
disclaimer sentence read as a name), and the industry rating when its own is empty or an unrated word (无评级 of a
sub-industry table). The analysts of either reading fill the other's when it has none. Each such choice is said in an ``info`` message.

Measured on the 34 labelled Chinese PDFs of the corpus (``bench/RESULTS.md``): the line reading alone found 2 of 44
rated stocks, the choice finds 43.
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


def _set_report_fields(rep, broker: str, date, make_signal_id) -> None:
    rep.broker, rep.report_date = broker, date
    for row in rep.rows:
        key = row["code"] or row["name"]
        row["broker"] = row["broker_group"] = broker
        row["report_date"] = date
        row["signal_id"] = make_signal_id(broker, key, date, row["kind"])


def _fill_analysts(rep, other) -> None:
    if not rep.analysts and other.analysts:
        rep.analysts = list(other.analysts)
        for row in rep.rows:
            row["analysts"] = ";".join(rep.analysts)


def extract_pdf_text(text: str, source: str, registry: ScaleRegistry, master: SecurityMaster):
    """The better of the line and the flat reading of a PDF's text (see module docstring)."""
    from engine.signals.extract import ReportExtract, _extract_lines, extract_report, make_signal_id

    lines = _extract_lines(text, ReportExtract(source=source), registry, master)
    flat_text = re.sub(r"\s+", "", text)
    if not flat_text:
        return lines
    flat = extract_report(flat_text, source, registry, master, pdf_choice=False)
    if _key(flat) > _key(lines) or (not lines.rows and flat.rows):
        flat.info("PDF text read as flat text (its tables and sidebars read better without line breaks): "
                  f"{flat.n_ratings} rated stock(s) against {lines.n_ratings} in the line reading")
        if flat.report_date is not None and not flat.date_inferred and not _in_head(text, flat.report_date):
            flat.info(f"date {flat.report_date} of the flat reading is not a header date of page 1: "
                      f"{lines.report_date or 'none'} kept")
            _set_report_fields(flat, flat.broker, lines.report_date, make_signal_id)
            flat.date_inferred = lines.date_inferred
        _fill_analysts(flat, lines)
        return flat
    broker, date = lines.broker, lines.report_date
    if flat.broker and lines.broker != flat.broker and lines.broker.endswith(flat.broker):
        for m in lines.messages:
            m.text = m.text.replace(repr(lines.broker), repr(flat.broker))
        lines.info(f"broker {lines.broker!r} read as {flat.broker!r} (the flat reading's name)")
        broker = flat.broker
    if (lines.report_date is None and flat.report_date is not None and not flat.date_inferred
            and _in_head(text, flat.report_date)):
        date = flat.report_date
        lines.messages = [m for m in lines.messages if "report_date left empty" not in m.text]
        lines.info(f"publication date {flat.report_date} read from the flat reading")
    if lines.industry_rating in ("", "无评级", "未评级") and flat.industry_rating not in ("", "无评级", "未评级"):
        lines.industry_rating = flat.industry_rating  # a table's 无评级 cell read as the industry's rating
        for row in lines.rows:
            row["industry_rating"] = flat.industry_rating
    if (broker, date) != (lines.broker, lines.report_date):
        _set_report_fields(lines, broker, date, make_signal_id)
    _fill_analysts(lines, flat)
    return lines
