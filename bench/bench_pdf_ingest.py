"""Benchmark: ingest the 47 real PDFs of ``../shared/corpus/pdf`` (Chinese and English broker reports, 354 pages).

Measures, on the same files in the same run:

1. ``ingest_paths`` on the 47 files (read every PDF with :mod:`engine.signals.pdf`, extract, build the table) in one
   process — the figure the issue's goal (< 30 s on the 2-core machine) is about;
2. the same read + extract split over 2 worker processes (``concurrent.futures``), what a parallel ingest gets;
3. the reading alone (:func:`engine.signals.pdf.read_pdf`), per file;
4. peers: pypdf's ``extract_text`` (the reader before issue 9: no positions, no page notes) on every file, and
   pdfplumber's ``extract_words`` (positions, the reader the issue suggests) on the first ``--plumber-files`` files,
   extrapolated per page to the corpus.

Before timing it checks that every file is readable and that the English files give one rated signal each.

Run: ``python bench/bench_pdf_ingest.py [--corpus DIR] [--plumber-files 6]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.paths import shared_dir  # noqa: E402
from engine.signals.extract import extract_report  # noqa: E402
from engine.signals.ingest import ingest_paths  # noqa: E402
from engine.signals.pdf import read_pdf  # noqa: E402
from engine.signals.scales import load_registry  # noqa: E402
from engine.signals.security_master import load_security_master  # noqa: E402
from engine.signals.text import read_report  # noqa: E402


def _read_extract(path: str) -> tuple[str, int]:
    report = read_report(path)
    rep = extract_report(report.text, path, load_registry(), load_security_master())
    return path, rep.n_ratings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--plumber-files", type=int, default=6)
    args = ap.parse_args()
    folder = (args.corpus or shared_dir() / "corpus") / "pdf"
    files = sorted(folder.glob("*.pdf"))
    if not files:
        print(f"no PDFs at {folder} (set RATINGBT_SHARED or --corpus)")
        return 2
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average, 2 cores shared)")

    t0, c0 = time.perf_counter(), time.process_time()
    result = ingest_paths(files)
    t_ingest, c_ingest = time.perf_counter() - t0, time.process_time() - c0
    unreadable = [f.path for f in result.files if not f.readable]
    english = [f for f in result.files if Path(f.path).name.startswith("F")]
    assert not unreadable, f"unreadable: {unreadable}"
    assert all(f.n_ratings == 1 for f in english), [(f.path, f.n_ratings) for f in english if f.n_ratings != 1]
    print(f"ingest_paths, 1 process: {len(files)} PDFs in {t_ingest:.2f} s wall, {c_ingest:.2f} s CPU "
          f"({len(result.signals)} signal rows, {sum(f.n_ratings for f in result.files)} rated)")

    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        parallel = list(pool.map(_read_extract, [str(f) for f in files]))
    t_parallel = time.perf_counter() - t0
    assert sum(n for _, n in parallel) == sum(f.n_ratings for f in result.files)
    print(f"read + extract, 2 processes: {t_parallel:.2f} s")

    pages = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for f in files:
        pages += len(read_pdf(f.read_bytes(), f.name).pages)
    t_read, c_read = time.perf_counter() - t0, time.process_time() - c0
    print(f"read_pdf alone: {t_read:.2f} s wall, {c_read:.2f} s CPU for {pages} pages "
          f"({1000 * t_read / pages:.1f} ms/page)")

    from pypdf import PdfReader

    t0, c0 = time.perf_counter(), time.process_time()
    for f in files:
        for page in PdfReader(str(f)).pages:
            page.extract_text()
    t_pypdf, c_pypdf = time.perf_counter() - t0, time.process_time() - c0
    print(f"peer pypdf extract_text: {t_pypdf:.2f} s wall, {c_pypdf:.2f} s CPU "
          f"(read_pdf / pypdf = {t_read / t_pypdf:.2f} wall, {c_read / c_pypdf:.2f} CPU)")

    import pdfplumber

    sub = files[:max(1, args.plumber_files)]
    sub_pages = 0
    t0 = time.perf_counter()
    for f in sub:
        with pdfplumber.open(str(f)) as pdf:
            for page in pdf.pages:
                page.extract_words()
                sub_pages += 1
    t_plumber = time.perf_counter() - t0
    est = t_plumber / sub_pages * pages
    print(f"peer pdfplumber extract_words: {t_plumber:.2f} s for {sub_pages} pages of {len(sub)} files → "
          f"{est:.0f} s estimated for all {pages} pages (read_pdf / pdfplumber = {t_read / est:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
