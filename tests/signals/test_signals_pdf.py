"""PDF reports: a PDF is built at test time from report text with reportlab's built-in CJK font STSong-Light
(a CID font: no font file or Debian package needed), and ingesting it must give the same signals as the text.
pypdf extracts STSong-Light text (tabs included) exactly enough for that."""

from __future__ import annotations

import io

import pandas as pd
import pytest

pytest.importorskip("reportlab")
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from engine.signals.ingest import ingest_paths  # noqa: E402

from tests.signals.test_signals_seeds import SEEDS  # noqa: E402


def text_to_pdf(text: str) -> bytes:
    """One text line per PDF line (6 pt STSong-Light), new page when full."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    y = 820
    pdf.setFont("STSong-Light", 6)
    for line in text.split("\n"):
        pdf.drawString(20, y, line)
        y -= 8
        if y < 20:
            pdf.showPage()
            pdf.setFont("STSong-Light", 6)
            y = 820
    pdf.save()
    return buf.getvalue()


def _same_signals(txt_path, pdf_path):
    a = ingest_paths([txt_path]).signals.drop(columns="source")
    b = ingest_paths([pdf_path]).signals.drop(columns="source")
    pd.testing.assert_frame_equal(a, b)
    return a


def test_synthetic_pdf_equals_text(tmp_path, make_text):
    text = make_text()
    (tmp_path / "r.txt").write_text(text, encoding="utf-8")
    (tmp_path / "r.pdf").write_bytes(text_to_pdf(text))
    signals = _same_signals(tmp_path / "r.txt", tmp_path / "r.pdf")
    assert set(signals["code"]) == {"002371.SZ", "688012.SH", "688072.SH", "688037.SH"}


@pytest.mark.parametrize("seed", ["000", "003", "004"])
def test_seed_pdf_equals_text(shared, tmp_path, seed):
    src = shared / "seeds" / SEEDS[seed]
    (tmp_path / f"{seed}.pdf").write_bytes(text_to_pdf(src.read_text(encoding="utf-8")))
    signals = _same_signals(src, tmp_path / f"{seed}.pdf")
    assert len(signals) == {"000": 1, "003": 1, "004": 10}[seed]


@pytest.mark.parametrize("seed", ["002", "004"])
def test_pdf_with_space_separated_tables_equals_text(shared, tmp_path, seed):
    """Real PDFs usually come out of pypdf with spaces, not tabs, between table cells: same signals."""
    src = shared / "seeds" / SEEDS[seed]
    text = src.read_text(encoding="utf-8")
    (tmp_path / f"{seed}.pdf").write_bytes(text_to_pdf(text.replace("\t", " ")))
    signals = _same_signals(src, tmp_path / f"{seed}.pdf")
    assert int((signals["kind"] == "rating").sum()) == {"002": 7, "004": 0}[seed]
    assert signals["price_at_report"].notna().sum() == {"002": 8, "004": 9}[seed]
