"""``ratingbt backtest CONFIG``: run a backtest config and write ``runs/<name>/``."""

from __future__ import annotations

import shlex
import sys
import warnings
from pathlib import Path
from typing import Optional

import typer

from engine.commands._display import flowing_help


@flowing_help
def backtest(
    config: Path = typer.Argument(..., help="YAML run config (see configs/seeds.yaml)."),
    name: Optional[str] = typer.Option(None, "--name", help="Override the run name (output folder runs/<name>/)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Parent folder of the run folder."),
    offline: bool = typer.Option(False, "--offline", help="Use only local prices and the cache, no network."),
) -> None:
    """Backtest a strategy on rating signals with A-share / Hong Kong rules and write runs/<name>/.

    Examples:

      ratingbt backtest configs/seeds.yaml

      ratingbt backtest configs/seeds.yaml --offline --name seeds-offline

    Writes config.yaml (resolved config + command line), equity.csv (date,equity,cash,benchmark), trades.csv
    (fills and rejections with reasons), positions.csv, stats.json and, when strategy.params holds lists (a sweep
    grid), sweep.csv with one row per variant.
    """
    from rich.console import Console
    from rich.text import Text

    from engine.commands._display import metrics_table, print_notes

    from engine.backtest.run import run_backtest, write_run
    from engine.config import load_backtest_config
    from engine.paths import runs_dir

    console = Console()
    err = Console(stderr=True, soft_wrap=True)
    overrides = {}
    if name:
        overrides["name"] = name
    cfg = load_backtest_config(config, overrides)  # errors: one or two lines and exit 2 (engine.commands._errors)
    if offline:
        cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"offline": True})})
    with console.status("backtest") as status, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = run_backtest(cfg, progress=lambda text: status.update(f"backtest: {text}"))
    for seen in dict.fromkeys(str(w.message) for w in caught):
        err.print(Text(f"warning: {seen}", style="yellow"))
    parent = output or (cfg.resolve(cfg.output) if cfg.output else runs_dir())
    out_dir = Path(parent) / cfg.name
    written = write_run(run, out_dir, " ".join(shlex.quote(a) for a in ["ratingbt", *sys.argv[1:]]))
    s = run.stats
    console.print(metrics_table(s, f"{cfg.name}: {cfg.strategy.name} vs {cfg.benchmark}, {s['first_session']} → "
                                   f"{s['last_session']}", cfg.portfolio.currency))
    print_notes(console, [("•", note) for note in run.messages])
    if run.sweep is not None:
        console.print(Text(f"sweep: {len(run.sweep)} variants → {out_dir / 'sweep.csv'}"))
    console.print(Text(f"wrote {out_dir}: " + ", ".join(p.name for p in written)))
