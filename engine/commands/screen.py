"""``ratingbt screen``: the ratings still inside their horizon at a date, and how each is doing against its band.

Heavy packages (pandas, numba, the data layer) are imported inside the functions, so ``--help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import typer

from engine.commands._display import flowing_help

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from engine.data.panel import Panel

__all__ = ["screen", "read_signals", "load_screen_panel"]

#: Calendar days loaded before the earliest report date, so a base close before a holiday week is found.
BASE_LOOKBACK_DAYS = 20

#: Screen columns shown in the terminal and the report, with their headings (kept in :mod:`engine.report`).
from engine.report_columns import SCREEN_DISPLAY  # noqa: E402 - light module (no pandas)


def read_signals(path: Path) -> "pd.DataFrame":
    """A signals table from ``.csv`` (UTF-8, BOM allowed), ``.parquet`` or ``.json`` (records); raises
    ``ValueError`` naming the file and what is wrong (:func:`engine.commands._signals.read_signals_file`)."""
    from engine.signals.read_file import read_signals_file

    return read_signals_file(path).table


def _signals_from_reports(paths: list[Path]) -> "pd.DataFrame":
    """Ingest report files/folders into signals with the ingest stage; per-file problems go to stderr."""
    from engine.signals.ingest import ingest_paths
    from engine.signals.schema import coerce_signals

    result = ingest_paths(paths)
    for file in result.files:
        for message in file.messages:
            if message.level == "error":
                typer.echo(f"ratingbt screen: {message.text}", err=True)
    return coerce_signals(result.signals)


def load_screen_panel(signals: "pd.DataFrame", as_of: "pd.Timestamp | None", *, offline: bool | None = None,
                      providers: str | None = None, progress: Callable[[str], None] | None = None) -> "Panel":
    """Prices of the rated picks published by ``as_of`` and their benchmarks from the earliest report date (minus a
    lookback) to ``as_of`` (today when None), through :func:`engine.data.load.load_panel` (cache, local files,
    providers); codes without prices stay in the panel as NaN and are screened as "no price data".

    Raises ``ValueError`` when no rated stock with a code was published on or before ``as_of`` (naming the earliest
    report date)."""
    import pandas as pd

    from engine.data.load import load_panel
    from engine.score.prices import codes_for_signals

    rated = signals[(signals["kind"] == "rating") & signals["report_date"].notna()]
    if as_of is not None:
        published = rated[rated["report_date"] <= as_of]
        if published.empty and not rated.empty:
            raise NoPicksYet(f"no rating was published on or before {as_of:%Y-%m-%d}: the earliest report date is "
                             f"{rated['report_date'].min():%Y-%m-%d}")
        rated = published
    codes = codes_for_signals(rated)  # the scoring stage's: one way to list a panel's codes
    if not codes:
        raise ValueError("the signals hold no rated stock with a code and a report date")
    start = (rated["report_date"].min() - pd.Timedelta(days=BASE_LOOKBACK_DAYS)).date()
    end = (as_of or pd.Timestamp.today().normalize()).date()
    return load_panel(codes, start, end, offline=offline, providers=providers, on_missing="ignore",
                      progress=progress)


class NoPicksYet(ValueError):
    """No rating was published by the as-of date (not an error of the input: the screen is empty)."""


#: Screen columns by priority: the default view shows as many as fit the terminal unwrapped, in this order of
#: importance; ``--wide`` shows every column of :data:`engine.report.SCREEN_DISPLAY`, ``--columns`` any of them.
#: Notes (stale, no price data, superseded) are listed under the table unless ``note`` is asked for.
SCREEN_PRIORITY = ("code", "name", "broker", "rating", "excess_return", "status", "sessions_left", "upside_left",
                   "band", "report_date", "stock_return", "excess_needed", "price_now", "target_price", "price_then",
                   "benchmark_return", "consensus_level", "n_brokers", "sessions_elapsed", "horizon_end")
_NUMERIC = {"sessions_elapsed", "sessions_left", "price_then", "price_now", "stock_return", "benchmark_return",
            "excess_return", "excess_needed", "target_price", "upside_left", "n_brokers", "consensus_level"}
_STATUS_STYLE = {"inside": "green", "below": "red", "above": "blue"}


def _screen_rich_table(shown: "pd.DataFrame", as_of: str, total: int, chosen: list[str]) -> "Table":
    from rich.text import Text

    from engine.commands._display import cell, compact_table

    headings = dict(SCREEN_DISPLAY)
    notes_inline = "note" in chosen
    rich_table = compact_table(title=f"Live picks at {as_of} ({total})",
                               caption="returns so far vs the benchmark; * = publication date inferred; "
                                       "--wide for every column, -o FILE for the full table")
    rich_table.add_column("#", justify="right", style="dim", no_wrap=True)
    for col in chosen:
        rich_table.add_column(headings[col], justify="right" if col in _NUMERIC else "left",
                              no_wrap=col not in ("name", "note", "broker"), overflow="fold",
                              min_width=8 if col in ("name", "broker") else None)
    for number, (_, row) in enumerate(shown.iterrows(), start=1):
        note = str(row["note"] or "")
        cells = [Text(str(number) + ("!" if note and not notes_inline else ""))]
        for col in chosen:  # Text cells: report strings are never read as rich markup
            value = str(row[col])
            style = _STATUS_STYLE.get(value, "") if col == "status" else ("yellow" if col == "note" and value else "")
            cells.append(cell(value, style))
        rich_table.add_row(*cells)
    return rich_table


def _print_table(table: "pd.DataFrame", as_of: str, console: "Console", columns: list[str] | None = None) -> None:
    """The screen as a rich table: the columns that fit the terminal (or ``columns``), numbers right-aligned,
    names folded rather than cut, and the notes listed under it by row number (rows marked ``!``)."""
    from rich.console import Console

    from engine.commands._display import fit_columns, print_notes
    from engine.report import screen_display_table

    shown = screen_display_table(table)
    order = [c for c, _ in SCREEN_DISPLAY]
    chosen = columns or fit_columns(console, lambda cols: _screen_rich_table(shown, as_of, len(table), cols),
                                    SCREEN_PRIORITY, order, required=6)
    rich_table = _screen_rich_table(shown, as_of, len(table), chosen)
    natural = console.measure(rich_table, options=console.options.update_width(100_000)).maximum
    if columns and natural > console.width:  # asked-for columns are printed whole, as long lines (like kubectl -o wide)
        Console(file=console.file, width=natural, force_terminal=console.is_terminal,
                color_system=console.color_system, no_color=console.no_color).print(rich_table)
    else:
        console.print(rich_table)
    if "note" not in chosen:
        notes = [(f"{number}. {row['code']} {row['name']}".strip() + ":", str(row["note"] or ""))
                 for number, (_, row) in enumerate(shown.iterrows(), start=1)]
        print_notes(console, notes, title="notes (rows marked !)")


@flowing_help
def screen(
    as_of: Optional[str] = typer.Option(None, "--as-of",
                                        help="Screen date YYYY-MM-DD; reports published after it are "
                                        "invisible (default: the last session at which a live pick has a price, "
                                        "stated in the output)."),
    signals: Optional[Path] = typer.Option(None, "--signals", help="Signals table (.csv/.parquet/.json) from "
                                                  "`ratingbt ingest`."),
    reports: Optional[list[Path]] = typer.Option(None, "--reports", help="Report file or folder to ingest first "
                                                             "(repeatable); instead of --signals."),
    broker: Optional[list[str]] = typer.Option(None, "--broker", help="Only this broker, as in the signals' broker "
                                                         "column (repeatable)."),
    market: Optional[list[str]] = typer.Option(None, "--market", help="Only this market: A or HK (repeatable)."),
    show_all: bool = typer.Option(False, "--all", help="Also list ratings superseded by a newer "
                                                        "rating of the same broker on the same stock."),
    sort: Optional[str] = typer.Option(None, "--sort", help="Sort by an output column (e.g. excess_return, "
                                        "upside_left, sessions_left); --sort=-COL descending (default: newest "
                                        "report first)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the full table (every column, "
                                         "fractions: 0.15 = 15 %, ISO dates) to FILE.csv or FILE.json."),
    offline: bool = typer.Option(False, "--offline", help="Use cached/local prices only; never call a provider."),
    providers: Optional[str] = typer.Option(None, "--providers", help="Price providers in order, comma-separated, "
                                          "from local, akshare, yfinance (default: $RATINGBT_PROVIDERS or "
                                          "local,akshare,yfinance)."),
    wide: bool = typer.Option(False, "--wide", help="Show every column, in long lines when wider than the "
                                                    "terminal (pipe to `less -S`); default: the columns that fit."),
    columns: Optional[str] = typer.Option(None, "--columns", help="Columns to show, comma-separated, from: "
                                          + ", ".join(c for c, _ in SCREEN_DISPLAY) + "."),
) -> None:
    """List the ratings whose horizon has not ended at --as-of, with how each is doing against its own band.

    One row per broker and stock (the newest rating; --all shows superseded ones too): rating and band, report
    date, sessions elapsed and left, price then and now, stock / benchmark / excess return so far (adjusted
    closes, CSI 300 or HSI), status inside/above/below the band and the excess still needed, target price and
    upside left, brokers covering the stock and their consensus level. Picks without prices are listed with
    "no price data"; picks whose last price is older than the as-of date are marked "stale (last price …)".

    Examples:

      ratingbt screen --signals signals.csv --as-of 2026-02-27

      ratingbt screen --signals signals.csv --market HK --sort=-excess_return -o live.json

      ratingbt screen --reports ../shared/seeds --broker 民生证券 --all --offline

      ratingbt screen --signals signals.csv --columns code,name,status,excess_return,upside_left

    The terminal shows the columns that fit its width (--wide: all of them, in long lines); notes such as
    "stale" are listed under the table for rows marked "!". Exit code 2 on bad input (the message names it).
    """
    import pandas as pd
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.text import Text

    from engine.commands._display import parse_columns
    from engine.signals.read_file import read_signals_file
    from engine.dates import parse_iso_date
    from engine.score.prices import codes_for_signals
    from engine.screen import SCREEN_COLUMNS, dropped_summary, screen_signals, write_screen

    console = Console()
    err = Console(stderr=True, soft_wrap=True)
    as_of_ts = parse_iso_date(as_of, "--as-of")
    today = pd.Timestamp.today().normalize()
    if as_of_ts is not None and as_of_ts > today:
        raise ValueError(f"--as-of {as_of_ts:%Y-%m-%d} is after today ({today:%Y-%m-%d}): no prices exist yet; "
                         "give a date up to today or leave --as-of out (the last session with prices)")
    if (signals is None) == (not reports):
        raise ValueError("give exactly one of --signals FILE or --reports PATH")
    descending = bool(sort and sort.startswith("-"))
    sort_col = sort.lstrip("-") if sort else None
    if sort_col is not None and sort_col not in SCREEN_COLUMNS:
        raise ValueError(f"--sort: unknown column {sort_col!r}; choose one of: {', '.join(SCREEN_COLUMNS)}")
    shown_columns = parse_columns(columns, [c for c, _ in SCREEN_DISPLAY])
    if wide and shown_columns is None:
        shown_columns = [c for c, _ in SCREEN_DISPLAY]
    markets = [m.strip().upper() for m in market] if market else None
    if markets and not set(markets) <= {"A", "HK"}:
        raise ValueError(f"--market: {', '.join(markets)} not allowed; use A or HK")
    bad_dates = 0
    if signals is not None:
        read = read_signals_file(signals)
        table_in = read.table
        for note in read.notes():
            err.print(Text(f"warning: {note}", style="yellow"))
        if read.bad_report_date:  # never guessed, never silently lost: counted and left out
            bad_dates = len(read.bad_report_date)
            keep = ~table_in.index.isin(sorted(read.bad_report_date))
            table_in = table_in[keep].reset_index(drop=True)
    else:
        table_in = _signals_from_reports(list(reports or []))
    n_codes = len(codes_for_signals(table_in[table_in["kind"] == "rating"]))
    try:
        with Progress(TextColumn("prices"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                      console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("", total=n_codes)
            panel = load_screen_panel(table_in, as_of_ts, offline=offline or None, providers=providers,
                                      progress=lambda code: bar.update(task, advance=1, description=code))
    except NoPicksYet as exc:
        console.print(Text(f"No live picks at {as_of_ts:%Y-%m-%d}: {exc}."))
        return
    table = screen_signals(table_in, panel, as_of=as_of_ts, include_superseded=show_all, brokers=broker,
                           markets=markets, sort=sort_col, descending=descending)
    used = table.attrs.get("as_of")
    as_of_text = f"{used:%Y-%m-%d}" if used is not None else "?"
    if as_of_ts is None:
        console.print(Text(f"as of {as_of_text}: the last session at which a live pick has a price "
                           "(--as-of DATE to choose another)", style="dim"))
    if as_of_ts is not None:
        from engine.screen import default_as_of

        last = default_as_of(panel, table_in)
        if last is not None and as_of_ts > last:
            console.print(Text(f"note: --as-of {as_of_text} is after the last price of the live picks ({last:%Y-%m-%d}):"
                               " returns are so far, up to each pick's last price (marked stale)", style="yellow"))
    if table.empty:
        console.print(f"No live picks at {as_of_text}.")
    else:
        _print_table(table, as_of_text, console, shown_columns)
    left_out = dropped_summary(table)
    if bad_dates:
        left_out = (left_out + ", " if left_out else "left out: ") + f"{bad_dates} report_date not a date (warned above)"
    if left_out:
        console.print(Text(f"{len(table_in) + bad_dates} signals read; {len(table)} listed; {left_out}", style="dim"))
    if output is not None:
        write_screen(table, output)
        console.print(Text(f"wrote {output}"))
