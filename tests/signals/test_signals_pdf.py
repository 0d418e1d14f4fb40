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


# ---------------------------------------------------------------------------------------------------------------
# Layout-aware reading (engine.signals.pdf): PDFs drawn here with reportlab and the STSong-Light CID font.

from engine.signals.extract import extract_report  # noqa: E402
from engine.signals.pdf import PAGE_BREAK, read_pdf  # noqa: E402
from engine.signals.scales import load_registry  # noqa: E402
from engine.signals.security_master import load_security_master  # noqa: E402
from engine.signals.text import page_of, read_report  # noqa: E402


def _canvas():
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    pdf.setFont("STSong-Light", 9)
    return buf, pdf


def _vertical(pdf, x: float, y: float, word: str, size: float = 9) -> None:
    """Stack ``word`` one character per line (a sidebar title). PDFium drops a lone two-byte STSong-Light string,
    so each character is drawn with a trailing space, as some generators do."""
    for i, ch in enumerate(word):
        pdf.drawString(x, y - i * size * 1.2, ch + " ")


SIDEBAR = ["投资评级：买入（维持）", "目标价：1,650.00 元", "当前价：1,217.73 元", "分析师：薛缘"]
BODY = ["事件：公司发布2025年年报，营业收入同比增长14.5%。", "储能业务保持高增，海外订单饱满，盈利能力稳步提升。",
        "我们预计公司2026-2028年归母净利润分别为150/182/228亿元。", "维持“买入”评级。"]


def _sidebar_pdf() -> bytes:
    """A company report's first page: title and date on top, a right sidebar drawn first (a template's text box)
    at the same heights as the body lines, the body on the left, a vertical word in the left margin."""
    buf, pdf = _canvas()
    pdf.drawString(60, 800, "阳光电源（300274.SZ）")
    pdf.drawString(60, 785, "2026年03月31日")
    for i, line in enumerate(SIDEBAR):
        pdf.drawString(400, 740 - i * 14, line)
    for i, line in enumerate(BODY):
        pdf.drawString(60, 740 - i * 14, line)
    _vertical(pdf, 20, 700, "公司研究")
    pdf.showPage()
    pdf.setFont("STSong-Light", 9)
    pdf.drawString(60, 800, "第二页正文。")
    pdf.save()
    return buf.getvalue()


def test_sidebar_is_its_own_block_not_interleaved():
    read = read_pdf(_sidebar_pdf(), "sidebar.pdf")
    lines = [ln.strip() for ln in read.pages[0].lines]
    for line in SIDEBAR + BODY:  # every line comes out whole: no sidebar cell glued to a body line
        assert line in lines
    assert lines.index(SIDEBAR[-1]) - lines.index(SIDEBAR[0]) == len(SIDEBAR) - 1  # the block stays together
    assert "公司研究" in lines and "公" not in lines  # the vertical word is rejoined


def _sidebar_rated(tmp_path):
    path = tmp_path / "sidebar.pdf"
    path.write_bytes(_sidebar_pdf())
    report = read_report(path)
    rep = extract_report(report.text, str(path), load_registry(), load_security_master())
    return rep, [r for r in rep.rows if r["kind"] == "rating"]


def test_sidebar_pdf_values_through_the_extractor(tmp_path):
    rep, rated = _sidebar_rated(tmp_path)
    assert rep.report_date == pd.Timestamp("2026-03-31").date()
    assert [(r["code"], r["rating"], r["action"]) for r in rated] == [("300274.SZ", "买入", "reiterate")]
    assert rated[0]["analysts"] == "薛缘"


def test_sidebar_pdf_target_and_price(tmp_path):
    _, rated = _sidebar_rated(tmp_path)
    assert rated[0]["target_price"] == 1650.0 and rated[0]["price_at_report"] == 1217.73


def test_page_markers_and_page_of():
    read = read_pdf(_sidebar_pdf(), "two.pdf")
    text = read.text()
    assert [p.number for p in read.pages] == [1, 2]
    assert text.split("\n").count(PAGE_BREAK) == 1
    assert page_of(text, text.index("第二页正文")) == 2 and page_of(text, text.index("维持")) == 1
    assert page_of("no markers here", 5) == 1


def test_watermark_date_is_not_the_publication_date(tmp_path):
    buf, pdf = _canvas()
    pdf.drawString(60, 800, "电力设备行业周报")
    pdf.drawString(60, 785, "2026年04月07日")
    pdf.drawString(60, 20, "该报告由张三于2026年04月08日自终端下载")  # a download stamp in the footer
    pdf.saveState()
    pdf.translate(200, 400)
    pdf.rotate(45)
    pdf.setFont("STSong-Light", 30)
    pdf.drawString(0, 0, "仅供张三使用 2026-04-09")  # a diagonal licence watermark
    pdf.restoreState()
    pdf.save()
    path = tmp_path / "wm.pdf"
    path.write_bytes(buf.getvalue())
    report = read_report(path)
    assert "2026年04月08日" not in report.text and "2026-04-09" not in report.text
    notes = [text for level, text in report.messages if "watermark" in text]
    assert len(notes) == 2 and all("page 1" in n for n in notes)
    rep = extract_report(report.text, str(path), load_registry(), load_security_master())
    assert rep.report_date == pd.Timestamp("2026-04-07").date()


def test_garbled_glyphs_and_hidden_text_reported_per_page():
    buf, pdf = _canvas()
    pdf.drawString(60, 800, "第一页正常文字")
    pdf.showPage()
    pdf.setFont("STSong-Light", 9)
    pdf.drawString(60, 800, "乱码\ue001\ue002\ue003\ue004\ue005文字")  # glyphs without a real Unicode mapping
    pdf.drawString(-400, 700, "tracking string printed off the page")  # hidden: outside the page box
    pdf.setFont("STSong-Light", 0.5)
    pdf.drawString(60, 600, "microscopic hidden text")  # hidden: 0.5 pt
    pdf.save()
    read = read_pdf(buf.getvalue(), "g.pdf")
    assert read.pages[1].lines == ["乱码文字"]  # garbled characters removed, hidden text dropped
    garbled = [t for level, t in read.messages if "garbled" in t]
    assert garbled == ["page 2: garbled glyphs: 5 character(s) without a Unicode mapping (text there is unreliable)"]
    assert any("page 2: hidden text" in t for _, t in read.messages)
    assert not any("page 1" in t for _, t in read.messages)


def test_image_only_header_and_missing_date_digits_are_reported():
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    buf, pdf = _canvas()
    img = Image.new("RGB", (400, 80), (200, 30, 30))
    pdf.drawImage(ImageReader(img), 20, 740, width=555, height=90)  # the header banner is a picture
    pdf.drawString(60, 700, "年 月 日")  # the date's digits were images too
    pdf.drawString(60, 680, "正文从这里开始。")
    pdf.save()
    read = read_pdf(buf.getvalue(), "img.pdf")
    texts = [t for _, t in read.messages]
    assert any(t.startswith("page 1: header: an image") for t in texts)
    assert any("'年 月 日' without digits" in t for t in texts)


def test_pdf_without_text_layer_is_an_error(tmp_path):
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    buf, pdf = _canvas()
    pdf.drawImage(ImageReader(Image.new("RGB", (50, 50))), 20, 20, width=500, height=700)
    pdf.save()
    path = tmp_path / "scan.pdf"
    path.write_bytes(buf.getvalue())
    result = ingest_paths([path])
    assert not result.files[0].readable
    assert "no extractable text" in str(result.files[0].messages[0])


def test_pdf_messages_reach_the_ingest_result(tmp_path):
    path = tmp_path / "wm.pdf"
    buf, pdf = _canvas()
    pdf.drawString(60, 800, "2026年04月07日")
    pdf.drawString(60, 20, "仅供张三使用 2026-04-08")
    pdf.save()
    path.write_bytes(buf.getvalue())
    result = ingest_paths([path])
    assert any("page 1: watermark dropped" in str(m) for m in result.files[0].messages)


# ---------------------------------------------------------------------------------------------------------------
# The real corpus (../shared/corpus/pdf, hand labels in ../shared/corpus/labels/pdf): the figures measured when this
# was written (bench/RESULTS.md, "Parser accuracy — PDFs"); a change that reads fewer of them fails here.

def _label_code(code: str | None) -> str | None:
    from engine.symbols import SymbolError, normalize_symbol

    if not code:
        return None
    try:
        return normalize_symbol(code)
    except SymbolError:
        return code.upper()


def test_real_corpus_pdfs(shared):
    import json

    corpus = shared / "corpus"
    if not (corpus / "labels" / "pdf").is_dir():
        pytest.skip("no labelled PDF corpus")
    registry, master = load_registry(), load_security_master()
    tally = {g: {"rated": 0, "found": 0, "fp": 0, "dates": 0, "dates_ok": 0, "brokers": 0, "brokers_ok": 0,
                 "targets": 0, "targets_ok": 0, "prices": 0, "prices_ok": 0} for g in ("zh", "en")}
    for label_path in sorted((corpus / "labels" / "pdf").glob("*.json")):
        label = json.loads(label_path.read_text(encoding="utf-8"))
        path = corpus / "pdf" / f"{label_path.stem}.pdf"
        report = read_report(path)
        assert all(level in ("warning", "info") for level, _ in report.messages)
        rep = extract_report(report.text, str(path), registry, master)
        t = tally[label["language"]]
        rows = {_label_code(r["code"]): r for r in rep.rows if r["kind"] == "rating"}
        recs = {_label_code(r["code"]): r for r in label["recommendations"]}
        t["rated"] += len(recs)
        t["fp"] += len(set(rows) - set(recs))
        for code, rec in recs.items():
            row = rows.get(code)
            t["found"] += row is not None and row["rating"].lower() == rec["rating"].lower()
            for key, name in (("target_price", "targets"), ("price_at_report", "prices")):
                if rec[key] is not None:
                    t[name] += 1
                    t[name + "_ok"] += row is not None and abs(row[key] - rec[key]) <= 0.005 * rec[key]
        if label["date"]:
            t["dates"] += 1
            t["dates_ok"] += rep.report_date is not None and rep.report_date.isoformat() == label["date"]
        assert rep.report_date is None or rep.report_date.isoformat() != "2026-04-08"  # the download watermark
        t["brokers"] += 1
        t["brokers_ok"] += rep.broker in {label["broker"], *label["broker_alias"]}
    en, zh = tally["en"], tally["zh"]
    assert (en["rated"], en["found"], en["fp"]) == (13, 13, 0)
    assert (en["dates_ok"], en["brokers_ok"], en["targets_ok"], en["prices_ok"]) == (12, 13, 12, 12)
    assert (en["dates"], en["brokers"], en["targets"], en["prices"]) == (12, 13, 12, 12)
    # Chinese PDFs: the extraction is engine.signals.extract's (figures of the merge with parser-text, 2026-11-29)
    assert zh["fp"] == 0 and zh["rated"] == 44 and zh["found"] >= 43
    assert zh["dates"] == 34 and zh["dates_ok"] >= 32
    assert zh["brokers"] == 34 and zh["brokers_ok"] >= 33
    assert zh["prices"] == 41 and zh["prices_ok"] >= 40


def test_pdf_reading_choice(monkeypatch):
    """engine.signals.pdf_extract keeps the reading that rates more; else the line reading, with the flat reading's
    date when the line reading has none and its broker when the line reading's has characters glued in front."""
    import datetime as dt

    import engine.signals.extract as extract_mod
    from engine.signals.extract import ReportExtract
    from engine.signals.pdf_extract import extract_pdf_text

    def fake(rated_line: int, rated_flat: int, line_broker: str, line_date):
        def extract(text, source, registry, master, pdf_choice=True, flat=None):
            flat = " " not in text and "\n" not in text if flat is None else flat
            rep = ReportExtract(source=source, broker="德邦证券" if flat else line_broker,
                                report_date=dt.date(2026, 4, 2) if flat else line_date)
            n = rated_flat if flat else rated_line
            rep.rows = [{"kind": "rating", "code": f"60000{i}.SH", "name": "", "price_at_report": 1.0,
                         "broker": rep.broker, "broker_group": rep.broker, "report_date": rep.report_date,
                         "signal_id": "x", "reading": "flat" if flat else "line"} for i in range(n)]
            return rep
        return extract

    def patch(*args):
        extract = fake(*args)
        monkeypatch.setattr(extract_mod, "extract_report", extract)
        monkeypatch.setattr(extract_mod, "_extract_lines", lambda text, out, registry, master: extract(
            text, out.source, registry, master, flat=False))

    patch(0, 3, "德邦证券", None)
    rep = extract_pdf_text("a b\nc", "r.pdf", None, None)
    assert rep.n_ratings == 3 and {r["reading"] for r in rep.rows} == {"flat"}
    assert any("read as flat text" in m.text for m in rep.messages)

    patch(2, 2, "报告仅供德邦证券", None)
    rep = extract_pdf_text("标题\n2026 年 04 月 02 日\n正文", "r.pdf", None, None)
    assert {r["reading"] for r in rep.rows} == {"line"}
    assert rep.broker == "德邦证券" and rep.report_date == dt.date(2026, 4, 2)
    assert {r["broker"] for r in rep.rows} == {"德邦证券"} and {r["signal_id"] for r in rep.rows} != {"x"}
    body = "标题\n" + "正文。\n" * 20 + "出口暂停，直至 2026 年 4 月 2 日，以保障国内春季播种需求。\n"
    rep = extract_pdf_text(body, "r.pdf", None, None)  # an event date inside a sentence: not adopted
    assert rep.report_date is None

    patch(1, 1, "国金证券", dt.date(2026, 3, 31))
    rep = extract_pdf_text("a b\nc", "r.pdf", None, None)
    assert rep.broker == "国金证券" and rep.report_date == dt.date(2026, 3, 31)  # the line reading's own
