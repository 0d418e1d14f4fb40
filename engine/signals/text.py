"""Read a report file into text: ``.txt`` / ``.md`` (UTF-8, UTF-8 with BOM, UTF-16 or GB18030) and ``.pdf`` (pypdf).

:func:`read_report_text` raises :class:`ReportReadError` (with the file name and the reason) when a file cannot be
read as text at all: missing, a directory, binary content, an unreadable or encrypted PDF. An empty file is *not*
an error here (it reads as ``""``); the extractor reports what is missing.
"""

from __future__ import annotations

import io
from pathlib import Path

__all__ = ["ReportReadError", "read_report_text", "decode_report_bytes", "TEXT_SUFFIXES", "PDF_SUFFIXES"]

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
PDF_SUFFIXES = (".pdf",)


class ReportReadError(Exception):
    """A report file could not be read as text; the message names the file and the reason."""


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    sample = text[:20000]
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or ch == "\ufffd")
    return bad / len(sample) > 0.02


def decode_report_bytes(data: bytes, name: str = "<bytes>") -> str:
    """Decode report bytes; raises :class:`ReportReadError` when they are binary rather than text."""
    if not data:
        return ""
    if data.startswith(b"%PDF"):
        return pdf_bytes_to_text(data, name)
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
        return text.replace("\r\n", "\n").replace("\r", "\n")
    raise ReportReadError(f"{name}: cannot decode as UTF-8, UTF-16 or GB18030 text")


def pdf_bytes_to_text(data: bytes, name: str = "<pdf>") -> str:
    """Text of every page of a PDF (pypdf), pages joined by newlines."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - pypdf is a dependency
        raise ReportReadError(f"{name}: reading PDFs needs the 'pypdf' package") from exc
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:
                raise ReportReadError(f"{name}: encrypted PDF") from exc
        pages = [page.extract_text() or "" for page in reader.pages]
    except ReportReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise ReportReadError(f"{name}: unreadable PDF ({type(exc).__name__}: {exc})") from exc
    text = "\n".join(pages)
    if pages and not text.strip():
        raise ReportReadError(f"{name}: PDF has no extractable text (scanned images?)")
    return text


def read_report_text(path: str | Path) -> str:
    """The text of the report at ``path`` (see module docstring)."""
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
    return decode_report_bytes(data, str(path))
