"""``ratingbt signals fetch|import|status``: keep the store's signals history growing from rating feeds and files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from engine.commands._display import flowing_help

__all__ = ["app", "fetch", "import_file", "status"]

app = typer.Typer(help="The signals history in the store: fetch rating feeds (cninfo, eastmoney, sina, etnet), "
                       "import ratings files, show what is there.", no_args_is_help=True)


def _err(text: str, code: int = 2) -> None:
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True).print(Text(f"error: {text}", style="red"))
    raise typer.Exit(code)


@app.command("fetch")
@flowing_help
def fetch(
    source: str = typer.Option(..., "--source", help="cninfo (one call per trading day), eastmoney, sina (per A-share "
                               "code) or etnet (per HK code)."),
    start: Optional[str] = typer.Option(None, "--start", help="First day, YYYY-MM-DD (cninfo)."),
    end: Optional[str] = typer.Option(None, "--end", help="Last day, YYYY-MM-DD (cninfo; default today)."),
    symbols: list[str] = typer.Option([], "--symbol", help="Stock code (eastmoney, sina, etnet); repeat."),
    min_interval: float = typer.Option(1.0, "--min-interval", help="Seconds between two calls (rate limit)."),
    retries: int = typer.Option(2, "--retries", help="Extra attempts on a transient error (back-off 1 s, 2 s, …)."),
    redo: bool = typer.Option(False, "--redo", help="Fetch keys already done again."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Store folder (default $RATINGBT_CACHE or "
                                         "./data_cache)."),
) -> None:
    """Fetch a rating feed into the store's signals history, resumably (finished days/symbols are not fetched again).

    Examples:

      ratingbt signals fetch --source cninfo --start 2025-01-02 --end 2025-01-31

      ratingbt signals fetch --source eastmoney --symbol 600519 --symbol 300474

      ratingbt signals fetch --source etnet --symbol 00700
    """
    import pandas as pd
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.text import Text

    from engine.data.store import open_store
    from engine.paths import cache_dir
    from engine.signals.feeds import FEEDS, KEYS_BY, run_feed, session_keys
    from engine.symbols import SymbolError, parse_symbol

    if source not in FEEDS:
        raise typer.BadParameter(f"{source!r}; allowed: {', '.join(FEEDS)}", param_hint="--source")
    if KEYS_BY[source] == "day":
        if start is None:
            raise typer.BadParameter("cninfo needs --start (and --end, default today)", param_hint="--start")
        try:
            keys = session_keys(start, end or pd.Timestamp.today().normalize())
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--start/--end") from None
    else:
        if not symbols:
            raise typer.BadParameter(f"{source} needs --symbol CODE (repeat for several)", param_hint="--symbol")
        keys = []
        for s in symbols:
            try:
                sym = parse_symbol(s)
            except SymbolError as exc:
                raise typer.BadParameter(str(exc), param_hint="--symbol") from None
            keys.append(sym.code.split(".")[0])
    console = Console()
    root = cache or cache_dir()
    feed = FEEDS[source]()
    store = open_store(root)

    def sink(frame, tag: str) -> int:
        return store.add_signals(frame, tag)  # each call opens and closes the store: other processes may use it

    with Progress(TextColumn(f"{source}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("", total=len(keys))
        report = run_feed(feed, keys, sink, cache_dir=root, min_interval=min_interval, retries=retries, redo=redo,
                          progress=lambda i, n, key: progress.update(task, completed=len(keys) - n + i,
                                                                     description=key))
    console.print(Text(f"{source}: {len(report.fetched)} fetched, {len(report.skipped)} already done, "
                       f"{len(report.failed)} failed; {report.rows} rows read, {report.new_rows} new in the store"))
    for message in dict.fromkeys(feed.messages):
        console.print(Text(f"note: {message}", style="yellow"))
    for key, error in report.failed.items():
        console.print(Text(f"failed {key}: {error} (tried again on the next run)", style="red"))
    if report.stopped:
        _err(f"stopped: {report.stopped}")
    if report.failed:
        raise typer.Exit(1)


@app.command("import")
@flowing_help
def import_file(
    path: Path = typer.Argument(..., help="Ratings CSV (date/report_date, broker, code, rating, …) or a signals "
                                "table (.csv/.parquet from `ratingbt ingest`)."),
    source: Optional[str] = typer.Option(None, "--source", help="Tag stored with the rows (default: the file "
                                         "name)."),
    ratings_dir: Optional[Path] = typer.Option(None, "--ratings-dir", help="Scale registry folder."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Store folder."),
) -> None:
    """Import a ratings file into the store's signals history (rows already there are skipped).

    Example:

      ratingbt signals import ../shared/data/ratings/ratings_2024_2025.csv
    """
    from rich.console import Console
    from rich.text import Text

    from engine.brokers.inputs import read_ratings
    from engine.data.store import open_store

    try:
        read = read_ratings(path, ratings_dir)
    except (ValueError, OSError) as exc:
        _err(str(exc))
    with open_store(cache) as store:
        new = store.add_signals(read.signals, source or f"file:{Path(path).name}")
    console = Console()
    for note in read.notes:
        console.print(Text(f"note: {note}", style="yellow"), overflow="fold")
    console.print(Text(f"{path}: {len(read.signals)} signals read, {new} new in the store, "
                       f"{len(read.signals) - new} already there"))


@app.command("status")
def status(cache: Optional[Path] = typer.Option(None, "--cache", help="Store folder.")) -> None:
    """What the signals history holds, by source (rows, brokers, first and last date), and each feed's progress."""
    from rich.console import Console

    from engine.commands._display import cell, compact_table
    from engine.data.store import open_store
    from engine.paths import cache_dir
    from engine.signals.feeds import FEEDS, FeedState, state_path

    console = Console()
    with open_store(cache) as store:
        hist = store.signals()
    table = compact_table(title=f"signals history: {len(hist):,d} rows")
    for heading in ("source", "rows", "ratings", "brokers", "first", "last"):
        table.add_column(heading, justify="left" if heading == "source" else "right")
    for src, part in hist.groupby("history_source", sort=True):
        dates = part["report_date"].dropna()
        table.add_row(cell(src), cell(f"{len(part):,d}"), cell(f"{int((part['kind'] == 'rating').sum()):,d}"),
                      cell(str(part["broker"].nunique())),
                      cell(dates.min().strftime("%Y-%m-%d") if len(dates) else ""),
                      cell(dates.max().strftime("%Y-%m-%d") if len(dates) else ""))
    console.print(table)
    feeds = compact_table(title="feeds")
    for heading in ("feed", "done", "failed", "last done", "rows"):
        feeds.add_column(heading, justify="left" if heading == "feed" else "right")
    for name in FEEDS:
        state = FeedState.load(state_path(cache or cache_dir(), name))
        if not state.done and not state.failed:
            continue
        last = max(state.done) if state.done else ""
        rows = sum(int(v.get("rows", 0)) for v in state.done.values())
        feeds.add_row(cell(name), cell(str(len(state.done))), cell(str(len(state.failed))), cell(last),
                      cell(f"{rows:,d}"))
    console.print(feeds)
