"""Bad input: each problem gives a per-file message naming what is missing; the other files are still ingested."""

from __future__ import annotations

import random

from typer.testing import CliRunner

from engine.cli import app
from engine.signals.ingest import ingest_paths


def _by_name(result):
    return {p.split("/")[-1]: f for f in result.files for p in [f.path]}


def _texts(f):
    return " | ".join(m.text for m in f.messages)


def test_bad_files_give_messages_and_good_files_survive(tmp_path, make_text):
    good = make_text()
    (tmp_path / "good.txt").write_text(good, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    rng = random.Random(7)
    (tmp_path / "garbage.txt").write_bytes(bytes(rng.randrange(256) for _ in range(4000)))
    (tmp_path / "garbage.pdf").write_bytes(b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(2000)))
    (tmp_path / "truncated.txt").write_text(good[: len(good) // 2], encoding="utf-8")
    (tmp_path / "norating.txt").write_text(make_text(with_scale=False), encoding="utf-8")
    (tmp_path / "unknown.txt").write_text(make_text(with_scale=False, broker="东海西证券"), encoding="utf-8")
    (tmp_path / "unknown_own_scale.txt").write_text(make_text(broker="东海西证券"), encoding="utf-8")
    result = ingest_paths([tmp_path, tmp_path / "nothere.txt"])
    files = _by_name(result)

    assert "empty file: no text to extract" in _texts(files["empty.txt"]) and files["empty.txt"].readable
    assert not files["garbage.txt"].readable and "binary content" in _texts(files["garbage.txt"])
    assert not files["garbage.pdf"].readable and "unreadable PDF" in _texts(files["garbage.pdf"])
    assert not files["nothere.txt"].readable and "file not found" in _texts(files["nothere.txt"])
    # truncated: the table survives, the 评级说明 is cut off → registry scale, with a message
    trunc = files["truncated.txt"]
    assert trunc.n_ratings == 2 and "no 评级说明" in _texts(trunc) and "using the registry scale (shared/seeds/" in _texts(trunc)
    assert "no 评级说明" in _texts(files["norating.txt"]) and files["norating.txt"].n_ratings == 2
    unknown = files["unknown.txt"]
    assert unknown.broker == "东海西证券"
    assert "no rating scale: the report has no 评级说明 and broker '东海西证券' is not in the scale registry" \
        in _texts(unknown)
    own = files["unknown_own_scale.txt"]
    assert "not in the scale registry (configs/ratings); using the report's own 评级说明" in _texts(own)

    sig = result.signals
    # the good report's rows are all there (ratings of good.txt dedupe with the identical norating/truncated copies)
    good_rows = sig[(sig["broker"] == "民生证券") & (sig["kind"] == "rating")]
    assert set(good_rows["code"]) == {"002371.SZ", "688012.SH"}
    assert good_rows["band_low"].notna().all()
    unknown_rows = sig[(sig["broker"] == "东海西证券") & (sig["code"] == "002371.SZ")]
    assert len(unknown_rows) == 1 and unknown_rows["band_low"].iloc[0] == 0.15   # from its own 评级说明
    assert len(result.unreadable) == 3


def test_exit_code_only_for_unreadable(tmp_path, make_text):
    out_dir = tmp_path / "out"
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    (tmp_path / "good.txt").write_text(make_text(), encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    runner = CliRunner()
    ok = runner.invoke(app, ["ingest", str(tmp_path), "-o", str(out_dir / "out.csv")])
    assert ok.exit_code == 0, ok.output
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    bad = runner.invoke(app, ["ingest", str(tmp_path), "-o", str(out_dir / "out.csv")])
    assert bad.exit_code == 1
    assert "binary content" in bad.output
    assert (out_dir / "out.csv").read_text(encoding="utf-8").count("002371.SZ") == 1
