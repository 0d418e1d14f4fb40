"""``ratingbt screen`` end to end on seed-like signals and the real prices in ../shared (offline: local files)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.screen.conftest import SEED_002, seed_signals

runner = CliRunner()


@pytest.fixture
def signals_csv(tmp_path):
    path = tmp_path / "signals.csv"
    seed_signals().to_csv(path, index=False)
    return path


def _screen(*args: str):
    result = runner.invoke(app, ["screen", "--providers", "local", *args], env={"COLUMNS": "250"})
    return result


def test_cli_as_of_2026_02_27_lists_002_with_band_status_and_stale_dates(shared, signals_csv, tmp_path):
    out = tmp_path / "live.json"
    result = _screen("--signals", str(signals_csv), "--as-of", "2026-02-27", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Live picks at 2026-02-27 (7)" in result.output
    rows = {r["code"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    assert set(rows) == {c for c, _, _ in SEED_002}
    # files ending 2026-01-23 → stale with that date; 2026-02-27 and 2026-06-29 files are current
    for code in ("688521.SH", "301018.SZ", "301397.SZ", "688048.SH"):
        assert rows[code]["note"] == "stale (last price 2026-01-23)"
        assert rows[code]["price_date"] == "2026-01-23"
    for code in ("688981.SH", "688041.SH", "603063.SH"):
        assert rows[code]["note"] == "" and rows[code]["price_date"] == "2026-02-27"
    assert {r["status"] for r in rows.values()} <= {"inside", "below", "above"}
    pick = rows["688981.SH"]  # hand computation in tests/screen/test_screen.py::test_returns_so_far_hand
    assert pick["status"] == "below"
    assert pick["excess_return"] == pytest.approx(115.0 / 90.5 - 4710.647 / 3831.627, abs=1e-12)
    assert pick["excess_needed"] == pytest.approx(0.15 - (115.0 / 90.5 - 4710.647 / 3831.627), abs=1e-12)
    assert pick["report_date"] == "2025-05-07" and pick["horizon_end"] == "2026-05-07"
    assert "stale (last price" in result.output and "below" in result.output


def test_cli_as_of_2026_06_30_lists_06082_without_price_data(shared, signals_csv, tmp_path):
    out = tmp_path / "live.csv"
    result = _screen("--signals", str(signals_csv), "--as-of", "2026-06-30", "-o", str(out))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table["code"]) == ["06082.HK"]
    assert table.loc[0, "note"] == "no price data"
    assert table.loc[0, "target_price"] == "78.63" and table.loc[0, "benchmark"] == "HSI"
    assert "no price data" in result.output


def test_cli_filters_and_sort(shared, signals_csv, tmp_path):
    out = tmp_path / "a.json"
    result = _screen("--signals", str(signals_csv), "--as-of", "2026-02-27", "--market", "A",
                     "--sort=-excess_return", "-o", str(out))
    assert result.exit_code == 0, result.output
    excess = [r["excess_return"] for r in json.loads(out.read_text(encoding="utf-8"))]
    assert excess == sorted(excess, reverse=True)
    none = _screen("--signals", str(signals_csv), "--as-of", "2026-02-27", "--broker", "没有这家")
    assert none.exit_code == 0 and "No live picks at 2026-02-27" in none.output


def test_cli_bad_input_messages(tmp_path, signals_csv):
    missing = _screen("--signals", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "nope.csv: no such signals file" in missing.output
    neither = _screen()
    assert neither.exit_code == 2 and "exactly one of --signals FILE or --reports PATH" in neither.output
    bad_sort = _screen("--signals", str(signals_csv), "--sort", "zzz")
    assert bad_sort.exit_code == 2 and "--sort: unknown column 'zzz'" in bad_sort.output
    bad_date = _screen("--signals", str(signals_csv), "--as-of", "yesterday")
    assert bad_date.exit_code == 2 and "--as-of 'yesterday' is not a date (write YYYY-MM-DD" in bad_date.output
    bad_market = _screen("--signals", str(signals_csv), "--market", "US")
    assert bad_market.exit_code == 2 and "--market: US not allowed" in bad_market.output
    broken = tmp_path / "broken.csv"
    broken.write_text("code,broker\n600000.SH,x\n", encoding="utf-8")
    result = _screen("--signals", str(broken))
    assert result.exit_code == 2 and "broken.csv: signals table is missing columns" in result.output


def test_cli_reports_ingests_the_real_seeds(shared, tmp_path):
    """--reports runs the ingest stage on ../shared/seeds; 002's seven rated picks are live on 2026-02-27."""
    out = tmp_path / "seeds.csv"
    result = _screen("--reports", str(shared / "seeds"), "--as-of", "2026-02-27", "-o", str(out))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert sorted(table["code"]) == sorted(c for c, _, _ in SEED_002)
    assert set(table["broker"]) == {"民生证券"} and set(table["report_date"]) == {"2025-05-07"}
    later = _screen("--reports", str(shared / "seeds"), "--as-of", "2026-06-30", "-o", str(out))
    assert later.exit_code == 0, later.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table["code"]) == ["06082.HK"] and list(table["note"]) == ["no price data"]


def test_cli_table_fits_80_columns_names_whole_notes_below_markup_literal(shared, signals_csv, tmp_path):
    """At 80 columns every line fits, names are not cut, the stale notes are listed under the table, and a broker
    name that looks like rich markup is printed literally."""
    table = pd.read_csv(signals_csv, dtype=str, keep_default_na=False)
    table.loc[table["code"] == "688981.SH", "broker"] = "[red]x[/red]"
    marked = tmp_path / "marked.csv"
    table.to_csv(marked, index=False)
    result = runner.invoke(app, ["screen", "--providers", "local", "--signals", str(marked), "--as-of",
                                 "2026-02-27"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert "中芯国际" in result.output and "…" not in result.output
    assert "[red]x[/red]" in result.output
    notes = lines[next(i for i, line in enumerate(lines) if line.startswith("notes")) + 1:]
    assert sum("stale (last price 2026-01-23)" in line for line in notes) == 4
    picked = runner.invoke(app, ["screen", "--providers", "local", "--signals", str(signals_csv), "--as-of",
                                 "2026-02-27", "--columns", "code,status,note"], env={"COLUMNS": "80"})
    assert picked.exit_code == 0 and "stale (last price 2026-01-23)" in picked.output
    assert "notes (rows marked !)" not in picked.output and "excess" not in picked.output
    bad = _screen("--signals", str(signals_csv), "--columns", "code,zzz")
    assert bad.exit_code == 2 and "--columns: unknown column(s) zzz" in bad.output
