"""``ratingbt score``: score every signal against its broker's own rating band and print the broker scorecard.

Heavy packages (pandas, numba through :mod:`engine.score`) are imported inside the functions, so ``--help`` stays fast.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from engine.commands._display import flowing_help

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from engine.score import ScoreResult

__all__ = ["score", "print_scorecard"]


def _pct(value: float, digits: int = 1) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.{digits}f}%"


def _num(value: float, digits: int = 2) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


#: Scorecard columns (heading, justify) in display order; the default view keeps as many as fit the terminal, in
#: the order of :data:`SCORECARD_PRIORITY`; ``--wide`` shows them all.
SCORECARD_HEADINGS = ("group", "kind", "n", "complete", "incomplete", "no price", "hit [95% CI]", "dir. hit", "touch",
                      "mean excess (t)", "median", "IC", "bullish")
SCORECARD_PRIORITY = ("group", "kind", "n", "hit [95% CI]", "mean excess (t)", "complete", "incomplete", "no price",
                      "median", "dir. hit", "IC", "touch", "bullish")
PENDING_HEADINGS = ("signal", "broker", "code", "kind", "rating", "horizon", "status", "scored to", "excess so far")
PENDING_PRIORITY = ("broker", "code", "kind", "status", "excess so far", "rating", "scored to", "horizon", "signal")
_LEFT = {"group", "kind", "signal", "broker", "code", "rating", "status"}


def _scorecard_cells(card: "pd.DataFrame", group_by: str) -> list[dict[str, str]]:
    rows = []
    for row in card[card["group_by"] == group_by].itertuples():
        hit = "–" if row.n_hit_eligible == 0 else \
            f"{_pct(row.hit_rate, 0)} [{_pct(row.hit_rate_low, 0)}–{_pct(row.hit_rate_high, 0)}]"
        mean = _pct(row.mean_excess) + ("" if math.isnan(row.excess_t_stat) else f" ({row.excess_t_stat:.2f})")
        rows.append({"group": str(row.group), "kind": str(row.kind), "n": str(row.n_signals),
                     "complete": str(row.n_complete), "incomplete": str(row.n_incomplete),
                     "no price": str(row.n_no_price), "hit [95% CI]": hit,
                     "dir. hit": _pct(row.direction_hit_rate, 0), "touch": _pct(row.touch_hit_rate, 0),
                     "mean excess (t)": mean, "median": _pct(row.median_excess), "IC": _num(row.ic_spearman),
                     "bullish": _pct(row.share_bullish, 0)})
    return rows


def _widest_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows holding the widest cell of some column (terminal cells, CJK = 2), in order: a table of them measures
    as wide as the whole table, so fitting columns to the terminal does not re-measure every row."""
    from rich.cells import cell_len

    if not rows:
        return rows
    keep = {max(range(len(rows)), key=lambda i: cell_len(rows[i][col])) for col in rows[0]}
    return [rows[i] for i in sorted(keep)]


def _rich_table(title: str, caption: str | None, rows: list[dict[str, str]], columns: list[str],
                first_heading: str | None = None) -> Table:
    """A compact table of display strings; every cell is Text (broker names are never read as markup)."""
    from engine.commands._display import cell, compact_table

    table = compact_table(title=title, caption=caption)
    for col in columns:
        heading = first_heading if (col == "group" and first_heading) else col
        table.add_column(heading, justify="left" if col in _LEFT else "right",
                         no_wrap=col not in ("group", "broker"), overflow="fold")
    for row in rows:
        table.add_row(*[cell(row[col]) for col in columns])
    return table


def _scorecard_table(card: pd.DataFrame, group_by: str, console: Console | None = None,
                     wide: bool = False) -> Table:
    """One rich table of the scorecard rows of ``group_by`` (see :data:`engine.score.SCORECARD_COLUMNS`), with the
    columns that fit ``console`` (all with ``wide``)."""
    title = f"Scorecard by {group_by} (complete windows; hit = excess inside the rating's own band)"
    caption = ("n = signals; incomplete = window not over yet (scored so far, excluded from rates); "
               "no price = stock without price data; excess vs benchmark, t = t-stat of the mean; "
               "dir. hit = excess on the rating's side of 0; touch = band reached at any time; "
               "IC = Spearman(rating level, excess); --wide for every column")
    from engine.commands._display import fit_columns

    rows = _scorecard_cells(card, group_by)
    widest = _widest_rows(rows)

    def build(columns: list[str], subset: list[dict[str, str]] | None = None) -> Table:
        return _rich_table(title, caption, rows if subset is None else subset, columns, first_heading=group_by)

    columns = list(SCORECARD_HEADINGS) if wide or console is None else \
        fit_columns(console, lambda cols: build(cols, widest), SCORECARD_PRIORITY, SCORECARD_HEADINGS, required=4)
    return build(columns)


def print_scorecard(result: ScoreResult, console: Console | None = None, max_rows: int = 40,
                    by: tuple[str, ...] = ("broker",), wide: bool = False) -> None:
    """Print the scorecard (per broker by default; ``by`` any of :data:`engine.score.scorecard.GROUPINGS`), then the
    windows that are not complete (incomplete ones scored so far, stocks without price data); the columns that fit
    the console unless ``wide``."""
    import numpy as np
    import pandas as pd
    from rich.console import Console

    from engine.commands._display import fit_columns

    console = console or Console()
    for group_by in by:
        console.print(_scorecard_table(result.scorecard, group_by, console, wide))
    scores = result.scores
    counts = scores["status"].value_counts()
    console.print("windows by status: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    status = scores["status"]
    pending = np.flatnonzero((status != "complete").to_numpy(dtype=bool))
    if len(pending):
        # ratings before mentions, incomplete (scored so far) before unscored; only the shown rows are copied
        is_mention = (scores["kind"] != "rating").to_numpy(dtype=bool)[pending]
        unscored = (status != "incomplete").to_numpy(dtype=bool)[pending]
        order = pending[np.argsort(2 * is_mention.astype(np.int8) + unscored, kind="stable")]
        rows = []
        for row in scores.iloc[order[:max_rows]].itertuples():
            end = "" if pd.isna(row.end_date) else pd.Timestamp(row.end_date).strftime("%Y-%m-%d")
            rows.append({"signal": str(row.signal_id), "broker": str(row.broker), "code": str(row.code),
                         "kind": str(row.kind), "rating": str(row.rating), "horizon": f"{row.horizon_scored_months}m",
                         "status": str(row.status), "scored to": end, "excess so far": _pct(row.excess_return)})

        def build(columns: list[str], subset: list[dict[str, str]] | None = None) -> Table:
            return _rich_table("Not (yet) complete", None, rows if subset is None else subset, columns)

        widest = _widest_rows(rows)
        columns = list(PENDING_HEADINGS) if wide else \
            fit_columns(console, lambda cols: build(cols, widest), PENDING_PRIORITY, PENDING_HEADINGS, required=4)
        console.print(build(columns))
        if len(order) > max_rows:
            console.print(f"… and {len(order) - max_rows} more (see scores.csv)")


@flowing_help
def score(
    signals: Path = typer.Option(..., "--signals", "-s",
                                 help="Signals table (.csv or .parquet) from `ratingbt ingest`."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Score with prices up to this date only, "
                                    "YYYY-MM-DD (default: every price there is)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output directory (default: runs/score)."),
    prices: list[Path] = typer.Option([], "--prices", help="Local price source, repeatable: a folder of per-symbol "
                                      "files (SZ300474.csv, SH000300.csv ...) or a file (per-symbol, or a long parquet "
                                      "such as the whole-market file), read through the store."),
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
    wide: bool = typer.Option(False, "--wide", help="Show every scorecard column (default: the columns that fit "
                              "the terminal width; scorecard.csv always has them all)."),
) -> None:
    """Score each rating against its broker's own band and print the scorecard per broker.

    Writes scores.csv (one row per signal and horizon), scorecard.csv (by broker, analyst, rating, action,
    market) and event_study.csv (mean cumulative excess, sessions 0..250) into the output directory.

    Examples:

      ratingbt score --signals signals.csv --prices ../shared/data/prices

      ratingbt score --signals ratings.csv --prices ../shared/data/market/ashare_daily_2024_2025.parquet --prices ../shared/data/prices/SH000300.csv

      ratingbt score --signals signals.csv --as-of 2025-12-31 -o runs/score-2025

      ratingbt score --signals signals.parquet --excess-mode relative --by broker,rating --wide

    Prices come from the cache (fill it with `ratingbt data import DIR`) or --prices DIR. The terminal shows the
    scorecard columns that fit its width (--wide: all); rates and excess returns are percent, t and IC plain.
    """
    import pandas as pd
    from rich.console import Console
    from rich.text import Text

    from engine.signals.read_file import read_signals_file
    from engine.dates import parse_iso_date
    from engine.paths import runs_dir
    from engine.score import ScoreConfig, run_scoring
    from engine.score.prices import panel_for_signals
    from engine.score.scales import default_scale_lookup
    from engine.score.scorecard import GROUPINGS

    console = Console()
    err = Console(stderr=True, soft_wrap=True)
    as_of_ts = parse_iso_date(as_of, "--as-of")
    try:
        config = ScoreConfig(excess_mode=excess_mode, range_leg=range_leg)  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    groupings = tuple(g.strip() for g in by.split(",") if g.strip())
    unknown = [g for g in groupings if g not in GROUPINGS]
    if unknown:
        raise typer.BadParameter(f"{', '.join(unknown)}; allowed: {', '.join(GROUPINGS)}", param_hint="--by")
    read = read_signals_file(signals)
    table = read.table
    for note in read.notes():
        err.print(Text(f"warning: {note}", style="yellow"))
    if as_of_ts is not None and as_of_ts > pd.Timestamp.today().normalize():
        raise ValueError(f"--as-of {as_of_ts:%Y-%m-%d} is after today: no prices exist yet; give a date up to today")
    out_dir = out or runs_dir() / "score"
    from concurrent.futures import ThreadPoolExecutor

    from engine.tables import write_table

    # pyarrow writes without the GIL: scores.parquet is written while the scorecard and the event study are
    # computed and printed, the two small tables while the scorecard prints
    with ThreadPoolExecutor(1, thread_name_prefix="ratingbt-write") as pool:
        scores_written = []  # the future of scores.parquet, submitted from inside run_scoring
        with console.status("loading prices and scoring…"):
            try:
                panel = panel_for_signals(table, prices or None, offline=offline, as_of=as_of_ts, fields=("close",),
                                          order="F")
            except (FileNotFoundError, LookupError, ValueError) as exc:
                raise ValueError(f"cannot load prices: {exc}") from None
            lookup = default_scale_lookup(table, registry_dir=ratings_dir)
            result = run_scoring(table, panel, as_of=as_of_ts, config=config, scale_lookup=lookup,
                                 on_scores=lambda scores: scores_written.append(
                                     pool.submit(write_table, scores, out_dir, "scores")))
        small_written = pool.submit(result.write, out_dir, None, ("scorecard", "event_study"))
        print_scorecard(result, console, by=groupings, wide=wide)
        # a failed write raises here, after the scorecard was shown
        paths = [scores_written[0].result(), *small_written.result()]
    if read.bad_report_date:
        console.print(Text(f"{len(read.bad_report_date)} signal(s) of {signals.name} scored as 'no report date': "
                           "their report_date is not a date (each named in the warnings above)", style="yellow"))
    no_price = result.scores["status"].eq("no price data")
    if no_price.all() and len(no_price):
        console.print(Text("no stock had price data: import prices first (ratingbt data import "
                           "../shared/data/prices) or pass --prices DIR", style="yellow"))
    console.print(Text("wrote " + ", ".join(str(p) for p in paths)))
