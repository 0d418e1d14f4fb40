"""``ratingbt score``: score every signal against its broker's own rating band and print the broker scorecard."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from engine.paths import runs_dir
from engine.score import ScoreConfig, ScoreResult, run_scoring
from engine.score.scales import default_scale_lookup
from engine.score.scorecard import GROUPINGS
from engine.score.prices import panel_for_signals
from engine.signals.schema import coerce_signals

__all__ = ["score", "read_signals", "print_scorecard"]


def read_signals(path: Path) -> pd.DataFrame:
    """A signals table from ``.csv`` / ``.parquet``; ``typer.BadParameter`` naming the file on any problem."""
    if not path.is_file():
        raise typer.BadParameter(f"{path} does not exist", param_hint="--signals")
    try:
        frame = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else \
            pd.read_csv(path, dtype={"horizon_months": str, "code": str, "benchmark": str})
        return coerce_signals(frame)
    except (ValueError, OSError) as exc:
        raise typer.BadParameter(f"{path}: {exc}", param_hint="--signals") from exc


def _pct(value: float, digits: int = 1) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.{digits}f}%"


def _num(value: float, digits: int = 2) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _scorecard_table(card: pd.DataFrame, group_by: str) -> Table:
    """One rich table of the scorecard rows of ``group_by`` (see :data:`engine.score.SCORECARD_COLUMNS`)."""
    table = Table(title=f"Scorecard by {group_by} (complete windows; hit = excess inside the rating's own band)")
    table.caption = ("n = signals; incomplete = window not over yet (scored so far, excluded from rates); "
                     "no price = stock without price data; excess vs benchmark, t = t-stat of the mean; "
                     "IC = Spearman(rating level, excess)")
    for col, justify in ((group_by, "left"), ("kind", "left"), ("n", "right"), ("complete", "right"),
                         ("incomplete", "right"), ("no price", "right"), ("hit [95% CI]", "right"),
                         ("dir. hit", "right"), ("touch", "right"), ("mean excess (t)", "right"),
                         ("median", "right"), ("IC", "right"), ("bullish", "right")):
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in card[card["group_by"] == group_by].itertuples():
        hit = "–" if row.n_hit_eligible == 0 else \
            f"{_pct(row.hit_rate, 0)} [{_pct(row.hit_rate_low, 0)}–{_pct(row.hit_rate_high, 0)}]"
        mean = _pct(row.mean_excess) + ("" if math.isnan(row.excess_t_stat) else f" ({row.excess_t_stat:.2f})")
        table.add_row(str(row.group), str(row.kind), str(row.n_signals), str(row.n_complete),
                      str(row.n_incomplete), str(row.n_no_price), hit, _pct(row.direction_hit_rate, 0),
                      _pct(row.touch_hit_rate, 0), mean, _pct(row.median_excess),
                      _num(row.ic_spearman), _pct(row.share_bullish, 0))
    return table


def print_scorecard(result: ScoreResult, console: Console | None = None, max_rows: int = 40,
                    by: tuple[str, ...] = ("broker",)) -> None:
    """Print the scorecard (per broker by default; ``by`` any of :data:`engine.score.scorecard.GROUPINGS`), then the
    windows that are not complete (incomplete ones scored so far, stocks without price data)."""
    console = console or Console()
    for group_by in by:
        console.print(_scorecard_table(result.scorecard, group_by))
    scores = result.scores
    counts = scores["status"].value_counts()
    console.print("windows by status: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    pending = scores[scores["status"] != "complete"]
    if len(pending):
        # ratings before mentions, incomplete (scored so far) before unscored
        keys = pending.assign(_k=(pending["kind"] != "rating").astype(int),
                              _s=(pending["status"] != "incomplete").astype(int))
        order = keys.sort_values(["_k", "_s"], kind="stable")
        detail = Table(title="Not (yet) complete")
        for col in ("signal", "broker", "code", "kind", "rating", "horizon", "status", "scored to", "excess so far"):
            detail.add_column(col, no_wrap=True)
        for row in order.head(max_rows).itertuples():
            end = "" if pd.isna(row.end_date) else pd.Timestamp(row.end_date).strftime("%Y-%m-%d")
            detail.add_row(str(row.signal_id), str(row.broker), str(row.code), str(row.kind), str(row.rating),
                           f"{row.horizon_scored_months}m", str(row.status), end, _pct(row.excess_return))
        console.print(detail)
        if len(order) > max_rows:
            console.print(f"… and {len(order) - max_rows} more (see scores.csv)")


def score(
    signals: Path = typer.Option(..., "--signals", "-s",
                                 help="Signals table (.csv or .parquet) from `ratingbt ingest`."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Score with prices up to this date only (YYYY-MM-DD)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output directory (default: runs/score)."),
    prices: Optional[Path] = typer.Option(None, "--prices", help="Read per-symbol CSVs from this directory "
                                          "(SZ300474.csv, SH000300.csv, HKHSI.csv ...) instead of the price cache."),
    offline: bool = typer.Option(True, "--offline/--online", help="Use only the price cache (default) or let the data "
                                 "layer download missing ranges (akshare/yfinance)."),
    excess_mode: str = typer.Option("absolute", "--excess-mode", help="absolute: r − b (brokers' definition); "
                                    "relative: (1+r)/(1+b) − 1."),
    ratings_dir: Optional[Path] = typer.Option(None, "--ratings-dir", help="Scale registry folder for the realised "
                                               "rating (default configs/ratings)."),
    by: str = typer.Option("broker", "--by", help="Scorecard groupings to print, comma-separated: broker, rating, "
                           "analyst, action, market, all (every grouping is always written to scorecard.csv)."),
    range_leg: str = typer.Option("long", "--range-leg", help="Which end of a '6-12' month range the scorecard uses "
                                  "(both ends are always in scores.csv)."),
) -> None:
    """Score each rating against its broker's own band and print the scorecard per broker.

    Writes scores.csv (one row per signal and horizon), scorecard.csv (by broker, analyst, rating, action,
    market) and event_study.csv (mean cumulative excess, sessions 0..250) into the output directory.

    Examples:

      ratingbt score --signals signals.csv --prices ../shared/data/prices

      ratingbt score --signals signals.csv --as-of 2025-12-31 -o runs/score-2025

      ratingbt score --signals signals.parquet --excess-mode relative --by broker,rating
    """
    console = Console(width=max(Console().width, 160))
    table = read_signals(signals)
    try:
        config = ScoreConfig(excess_mode=excess_mode, range_leg=range_leg)  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    groupings = tuple(g.strip() for g in by.split(",") if g.strip())
    unknown = [g for g in groupings if g not in GROUPINGS]
    if unknown:
        raise typer.BadParameter(f"{', '.join(unknown)}; allowed: {', '.join(GROUPINGS)}", param_hint="--by")
    as_of_ts = None
    if as_of is not None:
        try:
            as_of_ts = pd.Timestamp(as_of)
        except ValueError as exc:
            raise typer.BadParameter(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from exc
    prices_dir = prices
    with console.status("loading prices and scoring…"):
        try:
            panel = panel_for_signals(table, prices_dir, offline=offline, as_of=as_of_ts)
        except (FileNotFoundError, LookupError, ValueError) as exc:
            console.print(f"[red]cannot load prices: {exc}[/red]")
            raise typer.Exit(2) from exc
        lookup = default_scale_lookup(table, registry_dir=ratings_dir)
        result = run_scoring(table, panel, as_of=as_of_ts, config=config, scale_lookup=lookup)
    out_dir = out or runs_dir() / "score"
    paths = result.write(out_dir)
    print_scorecard(result, console, by=groupings)
    no_price = result.scores["status"].eq("no price data")
    if no_price.all() and len(no_price):
        console.print("[yellow]no stock had price data: import prices first (ratingbt data import "
                      "../shared/data/prices) or pass --prices DIR[/yellow]")
    console.print("wrote " + ", ".join(str(p) for p in paths))
