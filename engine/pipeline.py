"""The main job, ``ratingbt run CONFIG``: every stage in order, each writing its plain table into the run folder.

Steps (each names the function that does the work; any table can be re-read with pandas and the next stage resumed
from it):

1. signals — :func:`engine.data.inputs.load_signals`: ``signals.reports`` parsed (every per-file message kept as a
   note) or the ``signals.file`` table → ``signals.csv`` (columns :data:`engine.signals.schema.SIGNAL_COLUMNS`).
2. prices — :func:`engine.data.inputs.load_prices`, **once** for every stage: each signal's stock and benchmark plus
   the backtest's universe, on the combined A+H calendar (local files, cache, then the configured providers; codes
   without prices stay as NaN columns). The backtest selects its part with :func:`engine.data.inputs.select_panel`.
3. score — :func:`engine.score.run_scoring` → ``scores.csv``, ``scorecard.csv``, ``event_study.csv``.
4. backtest — :func:`engine.backtest.run.run_backtest` + :func:`engine.backtest.run.write_run` → ``config.yaml``,
   ``equity.csv``, ``trades.csv``, ``positions.csv``, ``stats.json`` (``sweep.csv`` for a grid).
5. screen — :func:`engine.screen.screen_signals` at ``screen.as_of`` (default: the last date with prices) →
   ``screen.csv``.
6. report — :func:`engine.report.write_run_report` → ``report.html`` (one self-contained file).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from engine.config import BacktestConfig

__all__ = ["RunOutcome", "run_pipeline", "STEPS"]

STEPS = ("signals", "prices", "score", "backtest", "screen", "report")


@dataclass
class RunOutcome:
    """What a run produced: the output folder, the report file, headline figures and notes for the user."""

    out_dir: Path
    report: Path
    signals: pd.DataFrame
    scorecard: pd.DataFrame
    screen: pd.DataFrame
    stats: dict
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _run_panel(cfg: BacktestConfig, signals: pd.DataFrame, notes: list[str]):
    """One panel for every stage: each signal's stock and benchmark (scoring, screen) plus the backtest's universe
    and benchmark, from a month before the first signal (or ``period.start``) on the A+H calendar. The backtest
    selects its own columns, period and exchange sessions from it (:func:`engine.data.inputs.select_panel`)."""
    from engine.backtest.run import backtest_codes
    from engine.data.inputs import load_prices
    from engine.score.prices import codes_for_signals

    codes = codes_for_signals(signals)
    codes += [c for c in backtest_codes(cfg, signals) if c not in codes]
    dates = signals["report_date"].dropna()
    start = (dates.min() - pd.Timedelta(days=31)).normalize() if len(dates) else None
    if cfg.period.start is not None:
        start = min(start, pd.Timestamp(cfg.period.start)) if start is not None else pd.Timestamp(cfg.period.start)
    end = pd.Timestamp(cfg.period.end) if cfg.period.end else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # codes without prices are reported by the score and screen tables
        return load_prices(cfg, codes, start, end, calendar="auto")


def run_pipeline(cfg: BacktestConfig, *, out_dir: Path, command_line: str = "",
                 score_as_of: str | None = None, screen_as_of: str | None = None,
                 progress: Callable[[str], None] | None = None) -> RunOutcome:
    """Run every stage of the config (see the module docstring) and write ``out_dir``.

    ``score_as_of`` cuts the prices used for scoring (default: all data); ``screen_as_of`` is the screen date
    (default: the last date with prices). ``progress(step)`` is called as each step starts. Reports and sweep
    variants run on the executor of ``cfg.executor`` (in this process unless workers or a scheduler are set),
    started once for the whole run.
    """
    from engine.executor import make_executor

    with make_executor(cfg.executor) as executor:
        return _run_pipeline(cfg, out_dir=out_dir, command_line=command_line, score_as_of=score_as_of,
                             screen_as_of=screen_as_of, progress=progress, executor=executor)


def _run_pipeline(cfg: BacktestConfig, *, out_dir: Path, command_line: str, score_as_of: str | None,
                  screen_as_of: str | None, progress: Callable[[str], None] | None, executor) -> RunOutcome:
    from engine.backtest.run import run_backtest, write_run
    from engine.data.inputs import load_signals
    from engine.report import write_run_report
    from engine.tables import write_table
    from engine.score import run_scoring
    from engine.screen import screen_signals, write_screen

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    notes: list[str] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []

    step("signals")
    signals = load_signals(cfg, notes, executor=executor)
    files.append(write_table(signals, out_dir, "signals"))

    step("prices")
    panel = _run_panel(cfg, signals, notes)
    missing = [c for c in panel.codes if not pd.notna(panel.close[:, panel.column(c)]).any()]
    if missing:
        notes.append(f"no price data for {', '.join(missing)} (listed as such in the scores and the screen)")

    step("score")
    scoring = run_scoring(signals, panel, as_of=score_as_of)
    files += scoring.write(out_dir)

    step("backtest")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = run_backtest(cfg, signals=signals, source_panel=panel, executor=executor,
                           sweep_dir=out_dir / "sweep_chunks")
    notes += [f"backtest: {w.message}" for w in caught if issubclass(w.category, UserWarning)]
    files += [p for p in write_run(run, out_dir, command_line) if p.stem != "price_sources"]
    from engine.data.load import sources_table

    files.append(write_table(sources_table(panel), out_dir, "price_sources"))  # every stage's codes, not only the backtest's
    notes += run.messages

    step("screen")
    screen = screen_signals(signals, panel, as_of=screen_as_of)
    path = out_dir / "screen.csv"
    write_screen(screen, path)
    files.append(path)

    step("report")
    report = write_run_report(out_dir, title=f"ratingbt run: {cfg.name}", run_name=cfg.name)
    files.append(report)
    unique_notes = list(dict.fromkeys(notes))
    return RunOutcome(out_dir=out_dir, report=report, signals=signals, scorecard=scoring.broker_scorecard(),
                      screen=screen, stats=run.stats, files=files, notes=unique_notes)
