"""``ratingbt ingest``: broker reports (and ratings CSVs) → the signals table.

Heavy packages (pandas, the report parser) are imported inside the functions, so ``--help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from engine.commands._display import flowing_help
from engine.commands._executor import KIND, SCHEDULER, WORKERS, executor_settings

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console
    from rich.table import Table

    from engine.signals.ingest import IngestResult

__all__ = ["ingest", "write_signals", "summary_table", "print_messages"]

_FORMATS = {".csv", ".parquet", ".json"}


def write_signals(signals, output: Path) -> None:
    """Write the signals table as CSV (UTF-8), parquet or JSON records (dates ISO) by the file suffix."""
    suffix = output.suffix.lower()
    if suffix not in _FORMATS:
        raise typer.BadParameter(f"output {output} must end in .csv, .parquet or .json")
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        out = signals.copy()
        for col in ("report_date", "price_date"):
            out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("")
        out.to_csv(output, index=False, encoding="utf-8")
    elif suffix == ".parquet":
        signals.to_parquet(output, index=False)
    else:
        signals.to_json(output, orient="records", date_format="iso", force_ascii=False, indent=1)


def summary_table(result: "IngestResult") -> "Table":
    """The per-file summary: #, file, broker, date (``*`` = inferred), type, #ratings, #mentions and the number of
    notes (the messages themselves are printed under the table by :func:`print_messages`)."""
    from engine.commands._display import cell, compact_table

    table = compact_table(title="ratingbt ingest", caption="* = publication date inferred from the quoted-price date")
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("file", overflow="fold", min_width=12)
    table.add_column("broker", overflow="fold", min_width=8)
    table.add_column("date", no_wrap=True)
    table.add_column("type", no_wrap=True)
    for heading in ("ratings", "mentions", "notes"):
        table.add_column(heading, justify="right", no_wrap=True)
    for number, f in enumerate(result.files, start=1):
        date = f"{f.report_date}{'*' if f.date_inferred else ''}" if f.report_date else "—"
        levels = [m.level for m in f.messages]
        style = "red" if "error" in levels else "yellow" if "warning" in levels else ""
        table.add_row(cell(number), cell(Path(f.path).name if f.kind != "missing" else f.path),
                      cell(f.broker or "—"), cell(date), cell(f.report_type or f.kind), cell(f.n_ratings),
                      cell(f.n_mentions), cell(len(f.messages) or "", style))  # Text: report strings are not markup
    return table


def print_messages(result: "IngestResult", console: "Console") -> None:
    """Every file's messages, one entry each, under the summary table (errors red, warnings yellow)."""
    from rich.text import Text

    from engine.commands._display import print_notes

    styles = {"error": "red", "warning": "yellow"}
    items = []
    for number, f in enumerate(result.files, start=1):
        for m in f.messages:
            text = Text(Path(f.path).name if f.kind != "missing" else f.path, style="bold")
            text.append(": ")
            text.append(m.text, style=styles.get(m.level, ""))
            items.append((f"{number}.", text))
    print_notes(console, items, title="messages")


@flowing_help
def ingest(
    paths: list[str] = typer.Argument(None, help="Report files (.txt/.md/.pdf), ratings CSVs, directories or globs."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the signals table here (.csv/.parquet/.json)."),
    names: list[Path] = typer.Option([], "--names", help="Extra names file(s) 'code,name' to resolve stock names."),
    ratings_dir: Path | None = typer.Option(None, "--ratings-dir", help="Scale registry folder (default configs/ratings)."),
    online: bool = typer.Option(False, "--online", help="Also resolve names with akshare's code lists (cached)."),
    first_as_initiate: bool = typer.Option(False, "--first-as-initiate",
                                           help="Treat a broker's first rating of a stock in the input as 'initiate'."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary table."),
    explain: Path | None = typer.Option(None, "--explain",
                                        help="Print every field of this one report with where it was read."),
    workers: int | None = WORKERS,
    scheduler: str | None = SCHEDULER,
    executor: str | None = KIND,
    column_map: list[str] = typer.Option([], "--map", help="Ratings-CSV column under another name: "
                                         "COLUMN=NAME_IN_FILE, e.g. --map report_date=发布时间 (repeatable)."),
) -> None:
    """Extract dated signals (ratings and mentions) from broker research reports.

    Each rating carries its broker's scale: horizon, benchmark and the promised excess-return band.
    Reports without a printed date get one inferred from their quoted-price date (marked * in the table).

    Examples:

      ratingbt ingest ../shared/seeds -o signals.csv

      ratingbt ingest "reports/**/*.pdf" my_ratings.csv -o signals.parquet --names my_names.csv

      ratingbt ingest --explain reports/some_report.txt

      ratingbt ingest reports/ --workers 2 -o signals.csv      # files read by 2 worker processes

      ratingbt ingest vendor_ratings.csv --map report_date=发布时间 --map broker=券商 -o signals.csv

    Without --workers/--executor/--scheduler the files are read in this process, or on one forked worker process
    per idle core when the files are enough work for that to be faster (estimated from their sizes; cores busy
    with other jobs, by the load average, do not count); --executor in-process forces one process.

    Exit code: 0 when every file could be read (even with warnings), 1 when some file could not be read at all.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.text import Text

    from engine.signals.ingest import expand_paths, ingest_paths
    from engine.signals.parallel import auto_executor
    from engine.signals.scales import load_registry
    from engine.signals.security_master import load_security_master
    from engine.signals.structured import parse_column_map

    console = Console()
    if output is not None and output.suffix.lower() not in _FORMATS:
        raise typer.BadParameter(f"{output} must end in .csv, .parquet or .json", param_hint="--output")
    from engine.executor import make_executor

    settings = executor_settings(None, workers, scheduler, executor)  # a bad value: ConfigError (exit 2)
    registry = load_registry(ratings_dir)  # a bad registry or names file: ValueError naming it (exit 2)
    master = load_security_master(list(names), online=online)
    if explain is not None:
        _explain(explain, registry, master, console)
        return
    if not paths:
        raise typer.BadParameter("give report files, directories or globs (or --explain FILE)", param_hint="PATHS")
    mapping = parse_column_map(column_map)  # a bad --map: ValueError naming it (exit 2)
    files = expand_paths(paths)[0]
    n_files = len(files)
    # no executor asked for: the faster of in-process and forked workers for these files
    chosen = make_executor(settings) if (workers or scheduler or executor) else auto_executor(files)
    with chosen as pool, Progress(
            TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
            console=console, transient=True, disable=quiet or n_files < 20) as bar:
        task = bar.add_task("", total=n_files)
        result = ingest_paths(paths, registry=registry, master=master, first_as_initiate=first_as_initiate,
                              column_map=mapping, progress=lambda p: bar.update(task, advance=1, description=Path(p).name),
                              executor=pool)
    if not quiet:
        console.print(summary_table(result))
        print_messages(result, console)
        sig = result.signals
        console.print(f"{len(sig)} signals ({int((sig['kind'] == 'rating').sum())} ratings, "
                      f"{int((sig['kind'] == 'mention').sum())} mentions) from {len(result.files)} file(s)")
    if output is not None:
        write_signals(result.signals, output)
        if not quiet:
            console.print(Text(f"wrote {output}"))
    for f in result.unreadable:
        for m in f.messages:
            if m.level == "error":
                console.print(Text(f"error: {m.text}", style="red"), soft_wrap=True)
    if result.unreadable:
        raise typer.Exit(1)


def _explain(path: Path, registry, master, console: "Console") -> None:
    """``--explain FILE``: one report's fields with their provenance; exit 1 when the file cannot be read."""
    from rich.text import Text

    from engine.signals.explain import explain_report
    from engine.signals.extract import extract_report
    from engine.signals.text import ReportReadError, read_report_text

    try:
        text = read_report_text(path)
    except ReportReadError as exc:
        console.print(Text(f"error: {exc}", style="red"), soft_wrap=True)
        raise typer.Exit(1) from exc
    for line in explain_report(extract_report(text, str(path), registry, master)):
        console.print(Text(line), soft_wrap=True)
