"""Read a report file into text: ``.txt`` / ``.md`` (UTF-8, UTF-8 with BOM, UTF-16 or GB18030) and ``.pdf``
(layout-aware, :mod:`engine.signals.pdf`).

:func:`read_report_text` raises :class:`ReportReadError` (with the file name and the reason) when a file cannot be
read as text at all: missing, a directory, binary content, an unreadable or encrypted PDF. An empty file is *not*
an error here (it reads as ``""``); the extractor reports what is missing. :func:`read_report` also returns the
reader's per-file and per-page messages (garbled glyphs, image-only headers, watermarks dropped).

**Page markers.** The text of a PDF keeps its line structure, and its pages are separated by a line that holds only
a form feed (``"\f"``, :data:`PAGE_BREAK`), as ``pdftotext`` does: page *n* (1-based) of an offset is one plus the
number of form feeds before it (:func:`page_of`). Text files have no markers (everything is page 1). A marker line
strips to ``""``, so line-based extractors see it as a blank line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.signals.pdf import PAGE_BREAK, PdfReadError, read_pdf

__all__ = ["ReportReadError", "ReportText", "read_report", "read_report_text", "decode_report_bytes", "page_of",
           "PAGE_BREAK", "TEXT_SUFFIXES", "PDF_SUFFIXES"]

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
PDF_SUFFIXES = (".pdf",)


class ReportReadError(Exception):
    """A report file could not be read as text; the message names the file and the reason."""


@dataclass
class ReportText:
    """A report's ``text`` (PDF pages separated by :data:`PAGE_BREAK` lines) and the reader's ``messages`` as
    ``(level, text)`` pairs (``warning`` / ``info``), for PDFs each naming the page (``page 2: garbled glyphs …``)."""

    text: str
    messages: list[tuple[str, str]] = field(default_factory=list)


def page_of(text: str, offset: int) -> int:
    """1-based page of character ``offset`` in a text with page markers (1 for text without markers)."""
    return text.count(PAGE_BREAK, 0, max(0, offset)) + 1


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    sample = text[:20000]
    bad = len(_CONTROL_RE.findall(sample))
    return bad / len(sample) > 0.02


# control characters other than \t \n \v \f \r, and the replacement character of a failed decode
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\ufffd]")


def decode_report_bytes(data: bytes, name: str = "<bytes>") -> str:
    """Decode report bytes; raises :class:`ReportReadError` when they are binary rather than text."""
    return _decode(data, name).text


def _decode(data: bytes, name: str) -> ReportText:
    if not data:
        return ReportText("")
    if data.startswith(b"%PDF"):
        return pdf_bytes_to_report(data, name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReportReadError(f"{name}: binary content (NUL bytes), not a text report")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            raise ReportReadError(f"{name}: binary content (control characters), not a text report")
        return ReportText(text.replace("\r\n", "\n").replace("\r", "\n"))
    raise ReportReadError(f"{name}: cannot decode as UTF-8, UTF-16 or GB18030 text")


def pdf_bytes_to_report(data: bytes, name: str = "<pdf>") -> ReportText:
    """Text of every page of a PDF with page markers and the reader's messages (:func:`~engine.signals.pdf.read_pdf`)."""
    try:
        pdf = read_pdf(data, name)
    except PdfReadError as exc:
        raise ReportReadError(str(exc)) from exc
    return ReportText(pdf.text(), list(pdf.messages))


def pdf_bytes_to_text(data: bytes, name: str = "<pdf>") -> str:
    """Text of every page of a PDF, pages separated by :data:`PAGE_BREAK` lines."""
    return pdf_bytes_to_report(data, name).text


def read_report(path: str | Path) -> ReportText:
    """The text of the report at ``path`` and the reader's messages (see module docstring)."""
    path = Path(path)
    if not path.exists():
        raise ReportReadError(f"{path}: file not found")
    if path.is_dir():
        raise ReportReadError(f"{path}: is a directory")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportReadError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if path.suffix.lower() in PDF_SUFFIXES and data and not data.startswith(b"%PDF"):
        raise ReportReadError(f"{path}: not a PDF (missing %PDF header)")
    return _decode(data, str(path))


def read_report_text(path: str | Path) -> str:
    """The text of the report at ``path`` (see module docstring)."""
    return read_report(path).text
