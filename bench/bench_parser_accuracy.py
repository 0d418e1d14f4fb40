"""Benchmark: parser accuracy on the labelled real-report corpus (``../shared/corpus``).

Reads every labelled report (whitespace-stripped texts ``stripped/NNN.txt``, Chinese PDFs ``pdf/PNN.pdf``, English
PDFs ``pdf/FNN.pdf``) with the project's own reader and extractor (:func:`engine.signals.text.read_report_text`,
:func:`engine.signals.extract.extract_report`, one file at a time, no de-duplication across files) and compares the
result with the hand labels (``labels/``; the comparison rules are in ``bench/parser_eval.py``). Prints, per group:
recall of rated (code, rating) pairs, false positives (rated rows for stocks the report does not rate; ``unrFP``
= those listed in the label's ``unrated_codes``), ratings read wrong, and accuracy of date, broker, target price,
price at report, action, industry rating and band. ``--all`` also runs the unlabelled stripped texts and reports
crashes and the time per file.

Peer: the same files read by the parser of ``main`` at the start of issue 9 gave 0 rated stocks on the stripped
texts (see ``bench/RESULTS.md``); the ratio printed is against that figure only where it is not zero.

Run: ``python bench/bench_parser_accuracy.py [--misses] [--group stripped|pdf-zh|pdf-en] [--only 015,021] [--all]``;
``--speed`` times :func:`engine.signals.ingest.ingest_paths` on the whole stripped folder (wall and CPU seconds, with
the load average: CPU seconds are what a quiet machine would take) against a grep-level peer.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine.paths import shared_dir  # noqa: E402
from engine.signals.extract import extract_report  # noqa: E402
from engine.signals.scales import load_registry  # noqa: E402
from engine.signals.security_master import load_security_master  # noqa: E402
from engine.signals.text import ReportReadError, read_report_text  # noqa: E402
from parser_eval import evaluate_file, format_misses, format_summary, label_group, load_labels, summarize  # noqa: E402


def corpus_files(corpus: Path) -> list[tuple[str, Path, dict]]:
    """(id, file, label) for every labelled report of the corpus."""
    out = []
    for sub, folder, suffix in (("stripped", "stripped", ".txt"), ("pdf", "pdf", ".pdf")):
        for file_id, label in load_labels(corpus / "labels" / sub).items():
            path = corpus / folder / f"{file_id}{suffix}"
            if path.exists():
                out.append((file_id, path, label))
    return out


def run(corpus: Path, groups: set[str] | None = None, only: set[str] | None = None, misses: bool = False,
        all_stripped: bool = False) -> int:
    registry, master = load_registry(), load_security_master()
    evals = []
    times: list[tuple[float, str]] = []
    crashes = []
    for file_id, path, label in corpus_files(corpus):
        if groups and label_group(label) not in groups:
            continue
        if only and file_id not in only:
            continue
        t0 = time.perf_counter()
        try:
            parsed = extract_report(read_report_text(path), str(path), registry, master)
        except ReportReadError as exc:
            print(f"unreadable {path.name}: {exc}")
            parsed = None
        except Exception:  # the benchmark reports crashes instead of stopping
            crashes.append((path.name, traceback.format_exc(limit=3)))
            parsed = None
        times.append((time.perf_counter() - t0, path.name))
        evals.append(evaluate_file(file_id, label, parsed))
    print(format_summary(summarize(evals)))
    if misses:
        print()
        print(format_misses(evals))
    if all_stripped:
        labelled = {p.name for _, p, _ in corpus_files(corpus)}
        n = 0
        t_all = time.perf_counter()
        for path in sorted((corpus / "stripped").glob("*.txt")):
            if path.name in labelled:
                continue
            n += 1
            t0 = time.perf_counter()
            try:
                extract_report(read_report_text(path), str(path), registry, master)
            except Exception:
                crashes.append((path.name, traceback.format_exc(limit=3)))
            times.append((time.perf_counter() - t0, path.name))
        print(f"\nunlabelled stripped texts: {n} in {time.perf_counter() - t_all:.2f} s")
    if times:
        total = sum(t for t, _ in times)
        slow = sorted(times, reverse=True)[:5]
        print(f"extraction time: {total:.2f} s for {len(times)} files (read + extract, one process); slowest: "
              + ", ".join(f"{name} {t * 1000:.0f} ms" for t, name in slow))
    for name, tb in crashes:
        print(f"CRASH {name}:\n{tb}")
    return 1 if crashes else 0


def speed(corpus: Path) -> None:
    """Wall and CPU time of :func:`engine.signals.ingest.ingest_paths` on the stripped folder (one process), and the
    peer: reading every file and running one regex for codes and one for rating words (a grep-level floor)."""
    import os
    import re

    from engine.signals.ingest import ingest_paths

    folder = corpus / "stripped"
    files = sorted(folder.glob("*.txt"))
    size = sum(f.stat().st_size for f in files) / 1e6
    t0, c0 = time.perf_counter(), time.process_time()
    result = ingest_paths([folder])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    sig = result.signals
    t1, c1 = time.perf_counter(), time.process_time()
    codes, words = re.compile(r"\d{6}"), re.compile("买入|增持|推荐|中性|减持|卖出")
    for f in files:
        text = f.read_text(encoding="utf-8")
        codes.findall(text)
        words.findall(text)
    peer_wall, peer_cpu = time.perf_counter() - t1, time.process_time() - c1
    load = os.getloadavg()[0]
    print(f"\ningest_paths({folder.name}): {len(result.files)} files, {size:.1f} MB, "
          f"{int((sig['kind'] == 'rating').sum())} ratings, {int((sig['kind'] == 'mention').sum())} mentions: "
          f"wall {wall:.2f} s, CPU {cpu:.2f} s (one process; load average {load:.1f} on {os.cpu_count()} cores)")
    print(f"peer (read + two regexes): wall {peer_wall:.2f} s, CPU {peer_cpu:.2f} s; ratio CPU {cpu / peer_cpu:.0f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=None, help="corpus folder (default ../shared/corpus)")
    ap.add_argument("--group", action="append", choices=["stripped", "pdf-zh", "pdf-en"])
    ap.add_argument("--only", default="", help="comma-separated ids")
    ap.add_argument("--misses", action="store_true", help="print the misses per file")
    ap.add_argument("--all", action="store_true", help="also run the unlabelled stripped texts (crashes, time)")
    ap.add_argument("--speed", action="store_true", help="time ingest_paths on the whole stripped folder")
    args = ap.parse_args()
    corpus = args.corpus or shared_dir() / "corpus"
    if not (corpus / "labels").is_dir():
        print(f"no labelled corpus at {corpus} (set RATINGBT_SHARED or --corpus)")
        return 2
    only = {x.strip() for x in args.only.split(",") if x.strip()} or None
    if args.speed:
        speed(corpus)
        return 0
    return run(corpus, set(args.group) if args.group else None, only, args.misses, args.all)


if __name__ == "__main__":
    raise SystemExit(main())
