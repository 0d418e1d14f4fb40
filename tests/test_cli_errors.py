"""Issue 11, "crashes and silence" and "surprises": one test per case, through the CLI (typer's CliRunner), asserting
the message and the exit code. No network: configs use the local provider only, or fail before loading prices."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.signals.schema import SIGNAL_COLUMNS

runner = CliRunner()
SESSIONS = pd.bdate_range("2024-03-01", periods=42).drop(pd.to_datetime(["2024-04-04", "2024-04-05"]))


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def _row(**values) -> dict:
    row = {c: "" for c in SIGNAL_COLUMNS}
    row.update({"kind": "rating", "market": "A", "currency": "CNY", "horizon_months": "1", "benchmark": "000300.SH",
                "date_inferred": False, "report_type": "company", "rating": "买入", "rating_level": 2})
    row.update(values)
    return row


@pytest.fixture
def prices(tmp_path) -> Path:
    """SH600000, SZ000001, SH000300 over 40 sessions from 2024-03-01 (seeded random walks), per-symbol CSVs."""
    folder = tmp_path / "prices"
    folder.mkdir()
    rng = np.random.default_rng(7)
    for stem, base in (("SH600000", 10.0), ("SZ000001", 20.0), ("SH000300", 3500.0)):
        close = (base * np.cumprod(1 + rng.normal(0.001, 0.01, len(SESSIONS)))).round(4)
        pd.DataFrame({"date": SESSIONS.strftime("%Y-%m-%d"), "open": close, "high": close * 1.01,
                      "low": close * 0.99, "close": close, "volume": 1e6}).to_csv(folder / f"{stem}.csv", index=False)
    return folder


@pytest.fixture
def signals_csv(tmp_path) -> Path:
    rows = [_row(signal_id="a", broker="B1", report_date="2024-03-07", code="600000.SH", band_low=0.0),
            _row(signal_id="b", broker="B2", report_date="2024-03-11", code="000001.SZ", band_low=0.0)]
    path = tmp_path / "signals.csv"
    pd.DataFrame(rows, columns=SIGNAL_COLUMNS).to_csv(path, index=False)
    return path


def _config(tmp_path: Path, prices: Path, signals: Path, *, benchmark: str = "000300.SH", params: str = "{}",
            extra: str = "") -> str:
    path = tmp_path / "my.yaml"
    path.write_text(f"""
name: mine
signals: {{file: {signals}}}
data: {{providers: [local], prices_dir: {prices}}}
strategy: {{name: follow_ratings, params: {params}}}
portfolio: {{cash: 100000, costs: none, rules: {{lots: false}}}}
benchmark: {benchmark}
{extra}
""", encoding="utf-8")
    return str(path)


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output and 'File "' not in output


# ---- crashes ---------------------------------------------------------------------------------------------------

def test_benchmark_without_prices_is_named_with_exit_2(tmp_path, prices, signals_csv):
    """Was an IndexError at backtest/run.py:355: HSI has no file in the prices folder."""
    config = _config(tmp_path, prices, signals_csv, benchmark="HSI")
    for command in ("backtest", "run"):
        result = invoke(command, config, "-o", str(tmp_path / "runs"))
        assert result.exit_code == 2, result.output
        text = re.sub(r"\s+", " ", result.output)
        assert f"ratingbt {command}: error: benchmark HSI has no prices between 2024-03-07 and 2024-04-29 in " \
               f"data.prices_dir {prices} (providers: local): add its price file" in text
        _no_traceback(result.output)


@pytest.mark.parametrize("sub", ["status", "verify"])
def test_data_status_and_verify_name_a_bad_symbol(sub):
    result = invoke("data", sub, "NOPE")
    assert result.exit_code == 2
    assert f"ratingbt data {sub}: error: cannot read 'NOPE' as a security code" in result.output
    _no_traceback(result.output)


def test_debug_anywhere_shows_the_traceback():
    result = invoke("data", "status", "NOPE", "--debug")
    assert result.exit_code != 0 and result.exc_info is not None
    assert type(result.exception).__name__ == "SymbolError"


def test_an_unexpected_error_is_one_line_with_where_and_exit_1(monkeypatch, tmp_path):
    import engine.config

    def boom(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine.config, "load_backtest_config", boom)
    result = invoke("run", str(tmp_path / "x.yaml"))
    assert result.exit_code == 1
    first, second = result.output.strip().splitlines()[:2]
    assert first.startswith("ratingbt run: internal error: RuntimeError: boom (at ")
    assert "--debug" in second
    _no_traceback(result.output)


# ---- dates -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,reason", [("03-02-2026", "is not a date (write"), ("26-02-2026", "is not a date (write"),
                                         ("2025-02-30", "is not a date (no such day; write"),
                                         ("yesterday", "is not a date (write")])
@pytest.mark.parametrize("command", ["screen", "score", "run"])
def test_non_iso_dates_are_refused(command, text, reason, signals_csv, tmp_path):
    args = {"screen": ["screen", "--signals", str(signals_csv), "--offline", "--as-of", text],
            "score": ["score", "--signals", str(signals_csv), "--as-of", text],
            "run": ["run", str(tmp_path / "none.yaml"), "--as-of", text]}[command]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert f"ratingbt {command}: error: --as-of {text!r} {reason} YYYY-MM-DD" in result.output


def _bad_dates_csv(tmp_path: Path) -> Path:
    rows = [_row(signal_id="a", broker="B1", report_date="2024-03-07", code="600000.SH", band_low=0.0),
            _row(signal_id="b", broker="B1", report_date="2025-02-30", code="000001.SZ", band_low=0.0),
            _row(signal_id="c", broker="B2", report_date="yesterday", code="000001.SZ", band_low=0.0)]
    path = tmp_path / "bad_dates.csv"
    pd.DataFrame(rows, columns=SIGNAL_COLUMNS).to_csv(path, index=False)
    return path


def test_screen_names_and_counts_rows_with_bad_report_dates(tmp_path, prices):
    path = _bad_dates_csv(tmp_path)
    result = runner.invoke(app, ["screen", "--signals", str(path), "--providers", "local", "--as-of", "2024-03-20"],
                           env={"COLUMNS": "200", "RATINGBT_PROVIDERS": "local"})
    text = result.output.replace("\n", " ")
    assert result.exit_code == 0, result.output
    assert "bad_dates.csv:3: report_date '2025-02-30' is not a date" in text
    assert "bad_dates.csv:4: report_date 'yesterday' is not a date" in text
    assert "3 signals read; " in text and "2 report_date not a date" in text


def test_score_names_rows_with_bad_report_dates(tmp_path, prices):
    path = _bad_dates_csv(tmp_path)
    result = invoke("score", "--signals", str(path), "--prices", str(prices), "-o", str(tmp_path / "sc"))
    text = result.output.replace("\n", " ")
    assert result.exit_code == 0, result.output
    assert "bad_dates.csv:3: report_date '2025-02-30' is not a date" in text
    assert "bad_dates.csv:4: report_date 'yesterday' is not a date" in text
    assert "2 signal(s) of bad_dates.csv scored as 'no report date'" in text
    scores = pd.read_csv(tmp_path / "sc" / "scores.csv", dtype=str)
    assert (scores["status"] == "no report date").sum() == 2


def test_future_as_of_says_so_without_the_network(signals_csv, monkeypatch):
    import engine.data.load

    def no_loading(*_a, **_k):
        raise AssertionError("prices must not be loaded for a future as-of")

    monkeypatch.setattr(engine.data.load, "load_panel", no_loading)
    start = time.perf_counter()
    result = invoke("screen", "--signals", str(signals_csv), "--as-of", "2099-01-01")
    assert time.perf_counter() - start < 10
    assert result.exit_code == 2
    assert "ratingbt screen: error: --as-of 2099-01-01 is after today" in result.output
    assert "no prices exist yet" in result.output


def test_as_of_before_every_report_is_a_plain_answer(signals_csv):
    result = invoke("screen", "--signals", str(signals_csv), "--offline", "--as-of", "2020-01-01")
    assert result.exit_code == 0, result.output
    assert ("No live picks at 2020-01-01: no rating was published on or before 2020-01-01: the earliest report date "
            "is 2024-03-07.") in result.output.replace("\n", " ")
    assert "after end" not in result.output


# ---- surprises ---------------------------------------------------------------------------------------------------

def test_unknown_strategy_parameter_fails_when_the_config_loads(tmp_path, prices, signals_csv):
    config = _config(tmp_path, prices, signals_csv, params="{stop_los: 0.1}")
    start = time.perf_counter()
    result = invoke("backtest", config, "-o", str(tmp_path / "runs"))
    assert result.exit_code == 2
    text = result.output.replace("\n", " ")
    assert "my.yaml: strategy.params: stop_los: unknown key (allowed: min_rating_level," in text
    assert "stop_loss" in text
    assert not (tmp_path / "runs").exists()  # nothing was loaded or written
    assert time.perf_counter() - start < 10


def test_unknown_config_key_lists_the_allowed_ones(tmp_path, prices, signals_csv):
    config = _config(tmp_path, prices, signals_csv, extra="portfolio: {cassh: 1}\n")
    Path(config).write_text(Path(config).read_text().replace("portfolio: {cash: 100000, costs: none, "
                                                              "rules: {lots: false}}\n", ""), encoding="utf-8")
    result = invoke("run", config)
    assert result.exit_code == 2
    assert "portfolio.cassh: unknown key (allowed: cash, currency, execution," in result.output.replace("\n", " ")


def test_missing_path_hint_fits_the_config(tmp_path, prices, signals_csv, monkeypatch):
    own = _config(tmp_path, tmp_path / "no_prices_here", signals_csv)
    result = invoke("backtest", own)
    text = result.output.replace("\n", " ")
    assert result.exit_code == 2
    assert "data.prices_dir points at" in text and "no_prices_here" in text
    assert "shared folder" not in text and "RATINGBT_SHARED" not in text
    monkeypatch.setenv("RATINGBT_SHARED", str(tmp_path / "nowhere"))
    seeds = invoke("backtest", "configs/seeds.yaml")
    assert seeds.exit_code == 2 and "RATINGBT_SHARED" in seeds.output


def test_signals_reports_takes_one_path_or_a_list(tmp_path, shared):
    from engine.config import load_backtest_config

    seeds = sorted(p for p in (shared / "seeds").iterdir() if p.suffix in (".txt", ".md", ".pdf"))[:2]
    one = tmp_path / "one.yaml"
    one.write_text(f"name: one\nsignals: {{reports: {seeds[0]}}}\n", encoding="utf-8")
    many = tmp_path / "many.yaml"
    many.write_text(f"name: many\nsignals:\n  reports:\n    - {seeds[0]}\n    - {seeds[1]}\n", encoding="utf-8")
    assert load_backtest_config(one).report_paths() == [seeds[0]]
    assert load_backtest_config(many).report_paths() == seeds
    from engine.backtest.run import load_signals

    both = load_signals(load_backtest_config(many))
    assert set(both["source"].map(lambda s: Path(s).name)) == {p.name for p in seeds}


def test_remembered_failures_are_named_and_retry_failed_asks_again(tmp_path, prices, signals_csv, monkeypatch):
    from engine.data.cache import PriceCache

    monkeypatch.delenv("RATINGBT_FAILURE_TTL_HOURS", raising=False)
    cache = tmp_path / "data_cache"
    monkeypatch.setenv("RATINGBT_CACHE", str(cache))
    PriceCache(cache).record_failure("000001.SZ", pd.Timestamp("2030-01-01").date(), pd.Timestamp("2030-03-01").date(),
                                     "no data", providers=["local"])
    config = _config(tmp_path, prices, signals_csv)
    first = invoke("run", config, "-o", str(tmp_path / "runs"))
    assert first.exit_code == 0, first.output
    text = re.sub(r"\s+", " ", first.output)
    assert "not asked again: 000001.SZ 2030-01-01…2030-03-01; run with --retry-failed" in text
    again = invoke("run", config, "-o", str(tmp_path / "runs"), "--retry-failed")
    assert again.exit_code == 0, again.output
    assert "--retry-failed to ask again" not in again.output
    import os

    assert "RATINGBT_FAILURE_TTL_HOURS" not in os.environ  # restored after the run


def test_help_shows_plain_metavars():
    from engine.commands._errors import _metavar  # noqa: F401 - the module that sets them

    pages = [[], ["run"], ["backtest"], ["score"], ["screen"], ["ingest"], ["data"], ["data", "fetch"],
             ["data", "import"], ["data", "status"], ["data", "verify"]]
    for page in pages:
        result = invoke(*page, "--help")
        assert result.exit_code == 0, (page, result.output)
        for bad in ("<bool>", "<str>", "<path>", "list[", "<int>", "<float>"):
            assert bad not in result.output, (page, bad)
    screen = invoke("screen", "--help").output
    assert "--as-of YYYY-MM-DD" in screen and "--signals PATH" in screen and re.search(r"--offline\s{2,}Use", screen)
    assert "--debug" in invoke("--help").output


@pytest.mark.parametrize("text", ["03-02-2026", "2025-02-30", "yesterday"])
def test_every_date_option_is_iso_only(text):
    """Checked by the shared command class for every option named like a date (here ``data fetch --start``)."""
    result = invoke("data", "fetch", "300474", "--start", text, "--end", "2026-03-05", "--offline")
    assert result.exit_code == 2
    assert f"ratingbt data fetch: error: --start {text!r} is not a" in result.output


def test_as_of_after_the_last_price_says_so(tmp_path, prices):
    assert invoke("data", "import", str(prices)).exit_code == 0
    rows = [_row(signal_id="a", broker="B1", report_date="2024-03-07", code="600000.SH", band_low=0.0,
                 horizon_months="12")]
    path = tmp_path / "long.csv"
    pd.DataFrame(rows, columns=SIGNAL_COLUMNS).to_csv(path, index=False)
    result = invoke("screen", "--signals", str(path), "--offline", "--as-of", "2024-05-20")
    text = re.sub(r"\s+", " ", result.output)
    assert result.exit_code == 0, result.output
    last = SESSIONS[-1].strftime("%Y-%m-%d")
    assert f"note: --as-of 2024-05-20 is after the last price of the live picks ({last})" in text
    assert f"stale (last price {last})" in text
    default = invoke("screen", "--signals", str(path), "--offline")  # the default date: no such note
    assert f"as of {last}: the last session at which a live pick has a price" in re.sub(r"\s+", " ", default.output)
    assert "is after the last price" not in default.output


def test_run_names_bad_dates_of_its_signals_file(tmp_path, prices):
    path = _bad_dates_csv(tmp_path)
    result = invoke("run", _config(tmp_path, prices, path), "-o", str(tmp_path / "runs"))
    text = re.sub(r"\s+", " ", result.output)
    assert result.exit_code == 0, result.output
    assert "bad_dates.csv:3: report_date '2025-02-30' is not a date" in text
    assert "bad_dates.csv:4: report_date 'yesterday' is not a date" in text
    scores = pd.read_csv(tmp_path / "runs" / "mine" / "scores.csv", dtype=str)
    assert (scores["status"] == "no report date").sum() == 2  # kept and counted, never guessed
