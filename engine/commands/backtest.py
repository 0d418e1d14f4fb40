"""``ratingbt backtest CONFIG``: run a backtest config and write ``runs/<name>/``."""

from __future__ import annotations

import shlex
import sys
import warnings
from pathlib import Path
from typing import Optional

import typer


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
    from rich.table import Table

    from engine.backtest.run import MissingInputError, run_backtest, write_run
    from engine.config import ConfigError, load_backtest_config
    from engine.paths import runs_dir

    console = Console()
    err = Console(stderr=True)
    overrides = {}
    if name:
        overrides["name"] = name
    try:
        cfg = load_backtest_config(config, overrides)
        if offline:
            cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"offline": True})})
        with console.status("backtest") as status, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = run_backtest(cfg, progress=lambda text: status.update(f"backtest: {text}"))
        for seen in dict.fromkeys(str(w.message) for w in caught):
            err.print(f"[yellow]warning:[/yellow] {seen}", highlight=False)
    except (ConfigError, MissingInputError, KeyError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    parent = output or (cfg.resolve(cfg.output) if cfg.output else runs_dir())
    out_dir = Path(parent) / cfg.name
    written = write_run(run, out_dir, " ".join(shlex.quote(a) for a in ["ratingbt", *sys.argv[1:]]))
    s = run.stats
    table = Table(title=f"{cfg.name}: {cfg.strategy.name} vs {cfg.benchmark}, {s['first_session']} → "
                        f"{s['last_session']}")
    table.add_column("metric")
    table.add_column("value", justify="right")

    def pct(x):
        return "n/a" if x is None or x != x else f"{x * 100:.2f} %"

    def num(x):
        return "n/a" if x is None or x != x else f"{x:.2f}"

    for label, value in [
        ("total return", pct(s["total_return"])), ("benchmark total return", pct(s["benchmark_total_return"])),
        ("excess return", pct(s["excess_return"])), ("annual return", pct(s["annual_return"])),
        ("volatility", pct(s["volatility"])), ("Sharpe", num(s["sharpe"])), ("max drawdown", pct(s["max_drawdown"])),
        ("alpha (annual)", pct(s["alpha"])), ("beta", num(s["beta"])),
        ("information ratio", num(s["information_ratio"])), ("costs paid", f"{s['costs_paid']:,.2f}"),
        ("trades filled / orders rejected", f"{s['trades_filled']} / {s['orders_rejected']}"),
    ]:
        table.add_row(label, value)
    console.print(table)
    for note in run.messages:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if run.sweep is not None:
        console.print(f"sweep: {len(run.sweep)} variants → {out_dir / 'sweep.csv'}")
    console.print(f"wrote {out_dir}: " + ", ".join(p.name for p in written))
