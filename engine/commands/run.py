"""``ratingbt run CONFIG``: the main job — ingest, prices, score, backtest, screen and the HTML report."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from engine.commands._display import flowing_help
from engine.commands._executor import KIND, SCHEDULER, WORKERS, with_executor_options


def _route_logs_to(console) -> None:
    import logging

    from rich.text import Text

    class ConsoleNotes(logging.Handler):
        """The library's log warnings (e.g. a provider marked unreachable) as yellow notes on this console."""

        def emit(self, record: logging.LogRecord) -> None:
            console.print(Text(f"note: {record.getMessage()}", style="yellow"))

    logger = logging.getLogger("engine")
    for old in [h for h in logger.handlers if type(h).__name__ == "ConsoleNotes"]:
        logger.removeHandler(old)
    logger.addHandler(ConsoleNotes(logging.WARNING))
    logger.propagate = False


def _hit_text(row) -> str:
    """``100% [21%–100%]``: the hit rate with its Wilson 95 % interval, as the HTML report prints it."""
    from engine.report import hit_rate_text

    return hit_rate_text(row["hit_rate"], row.get("hit_rate_low"), row.get("hit_rate_high"))


def _remembered_failure_notes(cfg, signals) -> list[str]:
    """A note naming the codes whose price ranges are skipped because every provider failed them recently, and how
    to ask again (``--retry-failed``); ``[]`` when there are none or the cache cannot tell."""
    try:
        from engine.data.cache import PriceCache, failure_ttl_hours

        cache = PriceCache(cfg.resolve(cfg.data.cache))
        failures = cache.manifest().get("failures", {})
    except Exception:  # noqa: BLE001 - a note is optional; the store may keep failures elsewhere
        return []
    import datetime as dt

    ttl = failure_ttl_hours()
    if ttl <= 0 or not failures:
        return []
    now = dt.datetime.now(dt.timezone.utc)
    wanted = set(signals["code"]) | {cfg.benchmark}
    named = []
    for code, entries in sorted(failures.items()):
        entries = [entries] if isinstance(entries, dict) else list(entries)
        recent = [f for f in entries if code in wanted
                  and (now - dt.datetime.fromisoformat(f["at"])).total_seconds() < ttl * 3600]
        if recent:
            named.append(f"{code} {min(f['start'] for f in recent)}…{max(f['end'] for f in recent)}")
    if not named:
        return []
    return [f"price ranges every provider failed within the last {ttl:g} h are not asked again: "
            f"{', '.join(named[:8])}{' …' if len(named) > 8 else ''}; run with --retry-failed to ask again "
            "(e.g. after fixing data.prices or the network)"]


@flowing_help
def run(
    config: Path = typer.Argument(..., help="YAML run config (see configs/seeds.yaml)."),
    name: Optional[str] = typer.Option(None, "--name", help="Override the run name (output folder runs/<name>/)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Parent folder of the run folder."),
    offline: bool = typer.Option(False, "--offline", help="Use only local prices and the cache, no network."),
    as_of: Optional[str] = typer.Option(None, "--as-of",
                                        help="Screen date YYYY-MM-DD (default: the last session at which a live "
                                        "pick has a price)."),
    score_as_of: Optional[str] = typer.Option(None, "--score-as-of",
                                              help="Score with prices up to this date only (default: all)."),
    retry_failed: bool = typer.Option(False, "--retry-failed",
                                      help="Ask the providers again for price ranges that all of them failed to "
                                      "supply recently (remembered for 12 h, $RATINGBT_FAILURE_TTL_HOURS)."),
    workers: Optional[int] = WORKERS,
    scheduler: Optional[str] = SCHEDULER,
    executor: Optional[str] = KIND,
) -> None:
    """Run the whole job of a config and write runs/<name>/ with report.html.

    Steps: read the reports (or signals file) → load prices (local files, cache, akshare, yfinance) → score every
    rating against its broker's own scale → backtest the strategy → screen the picks still live → write the HTML
    report. Every step leaves a plain table in the run folder (signals.csv, scores.csv, scorecard.csv,
    event_study.csv, equity.csv, trades.csv, positions.csv, stats.json, screen.csv).

    Examples:

      ratingbt run configs/seeds.yaml

      ratingbt run configs/seeds.yaml --offline --as-of 2026-02-27 --name seeds-feb

      ratingbt run my.yaml --retry-failed

      ratingbt run big.yaml --workers 4      # reports and sweep variants on 4 local worker processes

    Errors (a bad config key, a missing folder, a benchmark without prices) are one or two lines naming the key or
    file, with exit code 2; --debug shows the traceback.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from engine.commands._display import cell, compact_table, metrics_table, print_notes
    from engine.config import load_backtest_config
    from engine.dates import parse_iso_date
    from engine.paths import runs_dir
    from engine.pipeline import STEPS, run_pipeline

    from engine.brokers.settings import is_brokers_config

    if is_brokers_config(config):  # configs/real_ratings.yaml: the broker league (ratingbt brokers CONFIG)
        from engine.commands.brokers import run_config

        run_config(config, output=output, name=name)
        return
    console = Console()
    _route_logs_to(console)
    screen_date = parse_iso_date(as_of, "--as-of")  # ISO only (also checked for every date option by the CLI)
    if screen_date is not None:
        import pandas as pd

        today = pd.Timestamp.today().normalize()
        if screen_date > today:
            raise ValueError(f"--as-of {screen_date:%Y-%m-%d} is after today ({today:%Y-%m-%d}): no prices exist "
                             "yet; give a date up to today or leave --as-of out")
    cfg = with_executor_options(load_backtest_config(config, {"name": name} if name else None),
                                workers, scheduler, executor)
    if offline:
        cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"offline": True})})
    parent = output or (cfg.resolve(cfg.output) if cfg.output else runs_dir())
    out_dir = Path(parent) / cfg.name
    command_line = " ".join(shlex.quote(a) for a in ["ratingbt", *sys.argv[1:]])
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                        TimeElapsedColumn(), console=console, transient=False)
    saved_ttl = os.environ.get("RATINGBT_FAILURE_TTL_HOURS")
    if retry_failed:
        os.environ["RATINGBT_FAILURE_TTL_HOURS"] = "0"  # remembered failures are not consulted for this run
    try:
        with progress:
            task = progress.add_task(f"run {cfg.name}", total=len(STEPS))

            def on_step(step: str) -> None:
                done = STEPS.index(step) if step in STEPS else 0
                progress.update(task, completed=done, description=f"run {cfg.name}: {step}")

            outcome = run_pipeline(cfg, out_dir=out_dir, command_line=command_line, score_as_of=score_as_of,
                                   screen_as_of=as_of, progress=on_step)
            progress.update(task, completed=len(STEPS), description=f"run {cfg.name}: done")
    finally:
        if retry_failed:
            if saved_ttl is None:
                os.environ.pop("RATINGBT_FAILURE_TTL_HOURS", None)
            else:
                os.environ["RATINGBT_FAILURE_TTL_HOURS"] = saved_ttl

    notes = list(outcome.notes)
    if not retry_failed and not cfg.data.offline:
        notes += _remembered_failure_notes(cfg, outcome.signals)
    print_notes(console, [("•", note) for note in notes])

    s = outcome.stats
    n_ratings = int((outcome.signals["kind"] == "rating").sum())
    console.print(metrics_table(
        s, f"{cfg.name}: {cfg.strategy.name} vs {cfg.benchmark}, {s.get('first_session')} → {s.get('last_session')}",
        cfg.portfolio.currency, ("total_return", "benchmark_total_return", "excess_return", "annual_excess_return",
                                 "sharpe", "max_drawdown", "costs_paid", "trades_filled")))
    card = outcome.scorecard
    brokers = compact_table(title=f"{len(outcome.signals)} signals ({n_ratings} ratings) by broker",
                            caption="hit = complete windows inside the rating's own band; open = horizon not over; "
                                    "report.html has the full scorecard")
    for heading in ("broker", "kind", "n", "complete", "open", "no price", "hit [95% CI]"):
        brokers.add_column(heading, justify="left" if heading in ("broker", "kind") else "right",
                           no_wrap=heading != "broker", overflow="fold")
    for _, row in card[card["group_by"] == "broker"].iterrows() if "group_by" in card.columns else card.iterrows():
        hit = _hit_text(row) if row["kind"] == "rating" and row["n_hit_eligible"] else "–"
        brokers.add_row(*[cell(v) for v in (row["group"], row["kind"], int(row["n_signals"]), int(row["n_complete"]),
                                            int(row["n_incomplete"]), int(row["n_no_price"]), hit)])
    console.print(brokers)
    live = outcome.screen
    status = live["status"].replace("", "no price data").value_counts() if len(live) else {}
    used = live.attrs.get("as_of")
    when = f" at {used:%Y-%m-%d}" if used is not None else ""
    why = "" if as_of or used is None else " (the last session at which a live pick has a price; --as-of to change)"
    console.print(Text(f"live picks in the screen{when}{why}: {len(live)}"
                       + (" (" + ", ".join(f"{k} {v}" for k, v in status.items()) + ")" if len(live) else "")))
    console.print(Text(f"wrote {out_dir}: " + ", ".join(p.name for p in outcome.files)))
    console.print(Text(f"report: {outcome.report.resolve()}", style="bold green"))
