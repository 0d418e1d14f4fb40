"""The parser on the labelled real-report corpus (``../shared/corpus``; skipped when absent).

Floors are the figures measured when this test was written (bench/RESULTS.md, "Parser accuracy"), rounded down:
a change that loses recall or adds false positives fails here. Comparison rules: ``bench/parser_eval.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.signals.extract import extract_report
from engine.signals.scales import load_registry
from engine.signals.security_master import load_security_master
from engine.signals.text import read_report_text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from parser_eval import evaluate_file, load_labels, summarize  # noqa: E402


@pytest.fixture(scope="module")
def stripped_summary(shared):
    corpus = shared / "corpus"
    if not (corpus / "labels" / "stripped").is_dir():
        pytest.skip("no labelled corpus in ../shared/corpus")
    registry, master = load_registry(), load_security_master()
    evals = []
    for file_id, label in load_labels(corpus / "labels" / "stripped").items():
        path = corpus / "stripped" / f"{file_id}.txt"
        evals.append(evaluate_file(file_id, label, extract_report(read_report_text(path), str(path), registry,
                                                                  master)))
    return summarize(evals)["stripped"]


def test_stripped_recall_and_false_positives(stripped_summary):
    g = stripped_summary
    assert g.n_rated >= 400
    assert g.recall >= 0.97
    assert g.fp_per_100 <= 1.0


def test_stripped_dates_brokers_prices_actions(stripped_summary):
    g = stripped_summary
    assert g.accuracy("date") >= 0.97
    assert g.accuracy("broker") >= 0.97
    assert g.accuracy("target") >= 0.95
    assert g.accuracy("price") >= 0.85
    assert g.accuracy("action") >= 0.90
    assert g.accuracy("industry_rating") >= 0.80
