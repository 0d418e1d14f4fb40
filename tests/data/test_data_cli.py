"""End to end through the CLI: import the real shared prices, status lists all 35, verify flags HSI 2026-08-04."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_import_status_verify_on_shared_prices(shared, tmp_path):
    cache = str(tmp_path / "cache")
    res = _run("data", "import", str(shared / "data" / "prices"), "--cache", cache)
    assert res.exit_code == 0, res.output
    assert "for 35 symbol(s) from 35 file(s)" in res.output

    res = _run("data", "status", "--cache", cache)
    assert res.exit_code == 0, res.output
    rows = re.findall(r"│ (\S+)\s+│ (\d{4}-\d\d-\d\d) │ (\d{4}-\d\d-\d\d) │\s+(\d+) │", res.output)
    assert len(rows) == 35
    by_code = {r[0]: r[1:] for r in rows}
    assert by_code["300474.SZ"] == ("2024-01-02", "2026-01-23", "494")
    assert by_code["HSI"] == ("2024-01-02", "2026-08-27", "650")
    assert by_code["000300.SH"] == ("2024-01-02", "2026-08-21", "639")
    assert by_code["02513.HK"] == ("2026-01-08", "2026-03-26", "53")

    res = _run("data", "verify", "--cache", cache)
    assert res.exit_code == 0, res.output  # suspect rows do not fail verify
    assert re.search(r"HSI\s+│ 2026-08-04 │ placeholder", res.output)
    assert re.search(r"HSI\s+│ 2026-08-27 │ zero_volume", res.output)
    assert "0 invalid" in res.output

    res = _run("data", "fetch", "300474", "HSI", "--start", "2024-01-01", "--end", "2026-09-30", "--offline",
               "--cache", cache)
    assert res.exit_code == 1
    assert "300474.SZ 2026-01-26..2026-09-30 (outside the cached range)" in res.output
    assert "HSI 2026-08-28..2026-09-30 (outside the cached range)" in res.output


def test_verify_exit_code_for_invalid_data(tmp_path):
    from engine.data.cache import PriceCache
    from engine.data.store import Store
    from tests.data.fakes import bars

    cache = PriceCache(tmp_path)
    cache.write("600519.SH", bars(["2024-01-02", "2024-01-03"], [10.0, 11.0]), covered=[], source="t")
    cache.write("300474.SZ", bars(["2024-01-02", "2024-01-03"], [10.0, 11.0]), covered=[], source="t")
    with Store(tmp_path).transaction() as con:  # someone edited the store by hand
        con.execute("UPDATE bars SET close = -1 WHERE code = '600519.SH' AND date = DATE '2024-01-02'")
    res = _run("data", "verify", "--cache", str(tmp_path))
    assert res.exit_code == 1
    assert "600519.SH (net): fails validation" in res.output and "300474.SZ" not in res.output.split("invalid:")[1]
    assert "checked 2 symbol(s): 1 invalid" in res.output


def test_a_broken_store_is_one_error_line_not_a_traceback(tmp_path):
    (tmp_path / "ratingbt.duckdb").write_bytes(b"garbage" * 1000)
    for args in (["data", "status"], ["data", "verify"], ["data", "import", str(tmp_path)]):
        res = _run(*args, "--cache", str(tmp_path))
        assert res.exit_code == 1, res.output
        assert "error:" in res.output and "ratingbt.duckdb" in res.output and "Traceback" not in res.output


def test_fetch_rejects_unknown_provider_and_bad_symbol(tmp_path):
    res = _run("data", "fetch", "300474", "--start", "2024-01-01", "--end", "2024-01-31", "--provider", "wind",
               "--cache", str(tmp_path))
    assert res.exit_code == 2 and "allowed: local, akshare, yfinance" in res.output
    res = _run("data", "fetch", "notacode", "--start", "2024-01-01", "--end", "2024-01-31", "--cache", str(tmp_path))
    assert res.exit_code == 2 and "notacode" in res.output
    res = _run("data", "fetch", "300474", "--start", "2024-13-01", "--end", "2024-01-31", "--cache", str(tmp_path))
    assert res.exit_code == 2 and "--start '2024-13-01' is not a date" in res.output
    res = _run("data", "fetch", "300474", "--start", "2024-02-01", "--end", "2024-01-31", "--cache", str(tmp_path))
    assert res.exit_code == 2 and "is after --end" in res.output


def test_fetch_with_local_provider_from_a_directory(tmp_path, monkeypatch):
    src = tmp_path / "prices"
    src.mkdir()
    (src / "SH600519.csv").write_text("date,open,high,low,close,volume\n2024-01-02,1700,1720,1690,1710,100\n"
                                      "2024-01-03,1710,1730,1700,1725,120\n")
    monkeypatch.setenv("RATINGBT_SHARED", str(tmp_path / "nowhere"))
    from engine.data import providers

    real = providers.make_provider
    monkeypatch.setattr(providers, "make_provider",
                        lambda name, **kw: real(name, roots=[src]) if name == "local" else real(name, **kw))
    res = _run("data", "fetch", "600519", "--start", "2024-01-02", "--end", "2024-01-03", "--provider", "local",
               "--cache", str(tmp_path / "c"))
    assert res.exit_code == 0, res.output
    assert "600519.SH: 2 rows from local" in res.output
