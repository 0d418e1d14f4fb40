"""``ratingbt run CONFIG``: the main job — ingest, prices, score, backtest, screen and the HTML report."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from engine.commands._display import flowing_help


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


@flowing_help
def run(
    config: Path = typer.Argument(..., help="YAML run config (see configs/seeds.yaml)."),
    name: Optional[str] = typer.Option(None, "--name", help="Override the run name (output folder runs/<name>/)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Parent folder of the run folder."),
    offline: bool = typer.Option(False, "--offline", help="Use only local prices and the cache, no network."),
    as_of: Optional[str] = typer.Option(None, "--as-of",
                                        help="Screen date YYYY-MM-DD (default: the last date with prices)."),
    score_as_of: Optional[str] = typer.Option(None, "--score-as-of",
                                              help="Score with prices up to this date only (default: all)."),
) -> None:
    """Run the whole job of a config and write runs/<name>/ with report.html.

    Steps: read the reports (or signals file) → load prices (local files, cache, akshare, yfinance) → score every
    rating against its broker's own scale → backtest the strategy → screen the picks still live → write the HTML
    report. Every step leaves a plain table in the run folder (signals.csv, scores.csv, scorecard.csv,
    event_study.csv, equity.csv, trades.csv, positions.csv, stats.json, screen.csv).

    Examples:

      ratingbt run configs/seeds.yaml

      ratingbt run configs/seeds.yaml --offline --as-of 2026-02-27 --name seeds-feb
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from engine.data.inputs import MissingInputError
    from engine.report import format_metric
    from engine.commands._display import cell, compact_table, metrics_table, print_notes
    from engine.config import ConfigError, load_backtest_config
    from engine.paths import runs_dir
    from engine.pipeline import STEPS, run_pipeline

    from engine.brokers.settings import is_brokers_config

    if is_brokers_config(config):  # configs/real_ratings.yaml: the broker league (ratingbt brokers CONFIG)
        from engine.commands.brokers import run_config

        run_config(config, output=output, name=name)
        return
    console = Console()
    err = Console(stderr=True)
    _route_logs_to(console)
    try:
        cfg = load_backtest_config(config, {"name": name} if name else None)
    except ConfigError as exc:
        err.print(Text(f"error: {exc}", style="red"))
        raise typer.Exit(2) from None
    if offline:
        cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"offline": True})})
    parent = output or (cfg.resolve(cfg.output) if cfg.output else runs_dir())
    out_dir = Path(parent) / cfg.name
    command_line = " ".join(shlex.quote(a) for a in ["ratingbt", *sys.argv[1:]])
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                        TimeElapsedColumn(), console=console, transient=False)
    try:
        with progress:
            task = progress.add_task(f"run {cfg.name}", total=len(STEPS))

            def on_step(step: str) -> None:
                done = STEPS.index(step) if step in STEPS else 0
                progress.update(task, completed=done, description=f"run {cfg.name}: {step}")

            outcome = run_pipeline(cfg, out_dir=out_dir, command_line=command_line, score_as_of=score_as_of,
                                   screen_as_of=as_of, progress=on_step)
            progress.update(task, completed=len(STEPS), description=f"run {cfg.name}: done")
    except (ConfigError, MissingInputError, ValueError, KeyError) as exc:
        err.print(Text(f"error: {exc}", style="red"))
        raise typer.Exit(2) from None

    print_notes(console, [("•", note) for note in outcome.notes])

    def pct(x) -> str:
        return format_metric("total_return", x) if x is None or x != x else f"{x:.0%}"

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
    for heading in ("broker", "kind", "n", "complete", "open", "no price", "hit [%]"):
        brokers.add_column(heading, justify="left" if heading in ("broker", "kind") else "right",
                           no_wrap=heading != "broker", overflow="fold")
    for _, row in card[card["group_by"] == "broker"].iterrows() if "group_by" in card.columns else card.iterrows():
        hit = pct(row["hit_rate"]) if row["kind"] == "rating" and row["n_hit_eligible"] else "–"
        brokers.add_row(*[cell(v) for v in (row["group"], row["kind"], int(row["n_signals"]), int(row["n_complete"]),
                                            int(row["n_incomplete"]), int(row["n_no_price"]), hit)])
    console.print(brokers)
    live = outcome.screen
    status = live["status"].replace("", "no price data").value_counts() if len(live) else {}
    console.print(Text(f"live picks in the screen: {len(live)}"
                       + (" (" + ", ".join(f"{k} {v}" for k, v in status.items()) + ")" if len(live) else "")))
    console.print(Text(f"wrote {out_dir}: " + ", ".join(p.name for p in outcome.files)))
    console.print(Text(f"report: {outcome.report.resolve()}", style="bold green"))
