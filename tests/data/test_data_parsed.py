"""Parsed reports remembered between runs (engine.data.parsed): a hit equals a fresh parse, and anything the parse
depends on (a report's bytes, a new file, the parser) makes it parse again."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

import engine.signals.ingest as ingest_mod
from engine.config import load_backtest_config
from engine.data.inputs import load_signals


@pytest.fixture()
def setup(tmp_path, shared, monkeypatch):
    """Two seed reports in a folder of their own, a config reading them, and a counter of real parses."""
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in sorted(p.name for p in (shared / "seeds").glob("00[01]_*.txt")):
        shutil.copyfile(shared / "seeds" / name, reports / name)
    config = tmp_path / "run.yaml"
    config.write_text(f"name: t\nsignals:\n  reports: {reports}\ndata:\n  cache: {tmp_path / 'cache'}\n",
                      encoding="utf-8")
    calls = []
    real = ingest_mod.ingest_paths
    monkeypatch.setattr(ingest_mod, "ingest_paths", lambda *a, **k: calls.append(a) or real(*a, **k))
    return load_backtest_config(config), reports, calls


def _load(cfg):
    notes: list[str] = []
    return load_signals(cfg, notes), notes


def test_second_load_is_remembered_and_equal(setup):
    cfg, reports, calls = setup
    first, notes1 = _load(cfg)
    second, notes2 = _load(cfg)
    assert len(calls) == 1  # the second load did not parse
    pd.testing.assert_frame_equal(first, second)  # values and dtypes
    assert notes1 == notes2 and len(first) > 0
    assert list((cfg.resolve(cfg.data.cache) / "parsed").glob("*.pkl"))
    # independent check: a parse with the cache turned off gives the same table
    os.environ["RATINGBT_PARSE_CACHE"] = "0"
    try:
        fresh, notes3 = _load(cfg)
    finally:
        del os.environ["RATINGBT_PARSE_CACHE"]
    assert len(calls) == 2
    pd.testing.assert_frame_equal(first, fresh)
    assert notes3 == notes1


def test_a_changed_added_or_removed_report_is_parsed_again(setup):
    cfg, reports, calls = setup
    base, _ = _load(cfg)
    one = sorted(reports.iterdir())[0]
    text = one.read_text(encoding="utf-8")
    one.write_text(text + "\n", encoding="utf-8")  # same content but for one byte: the size changes
    _load(cfg)
    assert len(calls) == 2
    extra = reports / "copy_of_one.txt"
    shutil.copyfile(one, extra)
    _load(cfg)
    assert len(calls) == 3
    extra.unlink()
    one.write_text(text, encoding="utf-8")
    st = one.stat()
    os.utime(one, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # same bytes, touched: parsed again
    again, _ = _load(cfg)
    assert len(calls) == 4
    pd.testing.assert_frame_equal(base, again)


def test_a_parser_change_or_a_damaged_entry_parses_again(setup, monkeypatch):
    cfg, reports, calls = setup
    _load(cfg)
    import engine.data.parsed as parsed

    entry = next((cfg.resolve(cfg.data.cache) / "parsed").glob("*.pkl"))
    entry.write_bytes(b"not a pickle")
    again, _ = _load(cfg)
    assert len(calls) == 2 and len(again) > 0
    # the key covers the engine's own source files: an edited module is another key
    package = reports.parent / "engine_copy"
    package.mkdir()
    (package / "__init__.py").write_text("x = 1\n", encoding="utf-8")
    (package / "notes.txt").write_text("not source\n", encoding="utf-8")
    monkeypatch.setattr("engine.__file__", str(package / "__init__.py"))
    key = parsed.inputs_key([reports])
    (package / "notes.txt").write_text("still not source, longer\n", encoding="utf-8")
    assert parsed.inputs_key([reports]) == key  # only *.py files count
    (package / "__init__.py").write_text("x = 22\n", encoding="utf-8")
    assert parsed.inputs_key([reports]) != key
    monkeypatch.setattr("engine.__version__", "0.0.0-other")
    changed = parsed.inputs_key([reports])
    assert changed != key and changed == parsed.inputs_key([reports])
