"""``ratingbt data``: fetch, import, status and verify the price store (``data_cache/ratingbt.duckdb``).

Every subcommand turns a store that cannot be opened or stays locked (:class:`engine.data.store.StoreError`) into a
one-line ``error:`` naming the database file and exit code 1, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rich.text import Text

from engine.commands._display import flowing_help

app = typer.Typer(
    help=(
        "Manage the price store (data_cache/ratingbt.duckdb: bars, their provenance, coverage, failures).\n\n"
        "Examples:\n\n"
        "  ratingbt data import ../shared/data/prices\n\n"
        "  ratingbt data fetch 300474 0700.HK HSI --start 2024-01-01 --end 2024-12-31\n\n"
        "  ratingbt data status\n\n"
        "  ratingbt data verify"
    ),
    no_args_is_help=True,
)

_CACHE_OPT = typer.Option(None, "--cache", help="Cache directory (default: $RATINGBT_CACHE or ./data_cache).")


def _console():
    from rich.console import Console

    return Console(), Console(stderr=True)


def _progress(console):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[item]}"), TimeElapsedColumn(), console=console, transient=True)


def _cache(path: Optional[Path]):
    from engine.data.cache import PriceCache

    return PriceCache(path)


def _store_errors(func):
    """Turn store errors (cannot open, locked too long) into one ``error:`` line naming the file, exit 1."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from engine.data.store import StoreError

        try:
            return func(*args, **kwargs)
        except (StoreError, OSError) as exc:  # store unusable, or the cache folder cannot be written
            _, err = _console()
            err.print(Text.assemble(("error:", "red"), f" {exc}"))
            raise typer.Exit(1)
    return wrapper


@app.command("fetch")
@flowing_help
@_store_errors
def fetch(
    symbols: list[str] = typer.Argument(..., help="Codes in any spelling: 300474 sz300474 600519.SS 0700.HK HSI; "
                                                  "comma-separated lists work too."),
    start: str = typer.Option(..., "--start", help="First date, YYYY-MM-DD (inclusive)."),
    end: str = typer.Option(..., "--end", help="Last date, YYYY-MM-DD (inclusive)."),
    provider: Optional[str] = typer.Option(None, "--provider", "-p",
                                           help="Provider order, comma separated, from local, akshare, yfinance "
                                                "(default: $RATINGBT_PROVIDERS or local,akshare,yfinance)."),
    offline: bool = typer.Option(False, "--offline", help="Use the cache only; list what is missing."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds before a provider call is abandoned."),
    retries: int = typer.Option(2, "--retries", help="Extra attempts per provider on transient errors."),
    retry_failed: bool = typer.Option(False, "--retry-failed",
                                      help="Ask again for ranges every provider failed recently (remembered for "
                                           "$RATINGBT_FAILURE_TTL_HOURS, default 12 h)."),
    cache: Optional[Path] = _CACHE_OPT,
) -> None:
    """Fetch daily bars into the cache; only date ranges not cached yet are requested.

    Providers are tried in order (fallback chain) with timeouts, retries with exponential back-off and a minimum
    interval between calls. Exit code 1 when something is still missing (the list is printed).

    Examples:

      ratingbt data fetch 300474 688041.SH --start 2024-01-01 --end 2025-12-31

      ratingbt data fetch 0700.HK HSI --start 2024-01-01 --end 2024-06-30 --provider yfinance

      ratingbt data fetch 300474 --start 2024-01-01 --end 2026-12-31 --offline
    """
    from engine.data.chain import ChainSettings, ProviderChain
    from engine.data.fetch import ensure_cached
    from engine.data.load import _unique_codes
    from engine.symbols import SymbolError

    out, err = _console()
    try:
        codes = _unique_codes([s for arg in symbols for s in arg.split(",") if s.strip()])
    except SymbolError as exc:
        err.print(Text.assemble(("error:", "red"), f" {exc}"))
        raise typer.Exit(2)
    import pandas as pd

    for opt, value in (("--start", start), ("--end", end)):
        try:
            pd.Timestamp(value)
        except ValueError:
            err.print(Text.assemble(("error:", "red"), f" {opt} {value!r} is not a date (expected YYYY-MM-DD)"))
            raise typer.Exit(2)
    if pd.Timestamp(start) > pd.Timestamp(end):
        err.print(Text.assemble(("error:", "red"), f" --start {start} is after --end {end}"))
        raise typer.Exit(2)
    store = _cache(cache)
    if retry_failed:
        store.forget_failures(codes)
    chain = None
    if not offline:
        from engine.data.providers import PROVIDER_NAMES, default_order, make_provider

        names = [n.strip() for n in provider.split(",")] if provider else default_order()
        bad = [n for n in names if n not in PROVIDER_NAMES]
        if bad:
            err.print(Text.assemble(("error:", "red"),
                                    f" --provider: unknown {bad}; allowed: {', '.join(PROVIDER_NAMES)}"))
            raise typer.Exit(2)
        chain = ProviderChain([make_provider(n) for n in names], ChainSettings(timeout=timeout, retries=retries))
    with _progress(err) as bar:
        task = bar.add_task("fetch", total=len(codes), item="")

        done = [0]

        def step(code: str) -> None:  # called before each code
            bar.update(task, completed=done[0], item=code)
            done[0] += 1

        report = ensure_cached(store, codes, start, end, chain=chain, offline=offline, progress=step)
        bar.update(task, completed=len(codes))
    if chain is not None:
        chain.close()
    summary = store.summary({c: [o for o in report.plan[c] if o != "net"] for c in codes})
    for rec in summary.itertuples(index=False):
        out.print(Text(f"{rec.code}: {rec.rows} rows from local file {rec.origin}"))
    for code, n in report.fetched.items():
        out.print(f"{code}: {n} rows from {report.sources[code]}")
    for line in report.refreshed:
        err.print(Text(f"re-read (changed since it was read): {line}", style="dim"))
    for u in report.unchained:
        err.print(Text.assemble(("warning:", "yellow"),
                                f" new segment {u} shares no date with the stored bars; not rebased"))
    for e in report.errors:
        err.print(Text.assemble(("error:", "red"), f" {e}"))
    if report.missing:
        err.print(Text(f"missing ({len(report.missing)}):", style="red"))
        for m in report.missing:
            err.print(Text(f"  {m}"))
        raise typer.Exit(1)
    if offline:
        out.print(f"all {len(codes)} symbol(s) cached for {start}..{end}")


@app.command("import")
@flowing_help
@_store_errors
def import_(
    paths: list[Path] = typer.Argument(..., help="Price files (.csv per symbol, long .parquet) or directories."),
    replace: bool = typer.Option(False, "--replace", help="Serve these files before the files imported earlier "
                                                          "(default: after them) where both hold a symbol."),
    cache: Optional[Path] = _CACHE_OPT,
) -> None:
    """Import local price files into the store.

    Per-symbol files are named by code (SZ300474.csv, HKHSI.csv, 300474.SZ.csv) with columns
    date,open,high,low,close[,volume,raw_close,adj_factor,source] (volume in shares). A long parquet with a
    `code` column (the market file, volume in lots of 100) is read with SQL in one go. Each file is kept under
    its own path with its modification time, size and SHA-256; importing it again re-reads it only if it
    changed. Imported files serve calls that name no local files (`data fetch --offline`, `load_panel` without
    a local provider). Exit code 1 if a file failed.

    Examples:

      ratingbt data import ../shared/data/prices

      ratingbt data import ../shared/data/market/ashare_daily_2024_2025.parquet
    """
    from engine.data.importer import import_paths

    out, err = _console()
    store = _cache(cache)
    with _progress(err) as bar:
        task = bar.add_task("import", total=None, item="")

        def step(label: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, item=label)

        report = import_paths(paths, store, replace=replace, progress=step)
    out.print(Text(f"imported {sum(report.rows.values())} rows for {len(report.rows)} symbol(s) "
                   f"from {len(report.files)} file(s) into {store.root}"))
    for path, why in report.skipped.items():
        err.print(Text(f"skipped {path}: {why}", style="dim"))
    for path, msg in report.errors.items():
        err.print(Text.assemble(("error:", "red"), f" {path}: {msg}"))
    if report.errors:
        raise typer.Exit(1)


@app.command("status")
@flowing_help
@_store_errors
def status(
    symbols: Optional[list[str]] = typer.Argument(None, help="Only these codes (default: every stored symbol)."),
    cache: Optional[Path] = _CACHE_OPT,
) -> None:
    """List stored symbols, one row per symbol and origin: first and last date, rows, where the bars came from
    (a provider, or a local file and whether `data import` brought it in) and the last update (UTC).

    Example:  ratingbt data status 300474 HSI
    """
    from rich.table import Table

    from engine.data.load import _unique_codes

    out, err = _console()
    store = _cache(cache)
    try:
        wanted = _unique_codes(symbols) if symbols else None
    except ValueError as exc:
        err.print(Text.assemble(("error:", "red"), f" {exc}"))
        raise typer.Exit(2)
    rows = store.status(wanted)
    n_codes = rows["code"].nunique() if len(rows) else 0
    folders = sorted({str(Path(o).parent) for o in rows["origin"] if o.startswith("/")})
    table = Table(title=f"price store {store.store.path} ({n_codes} symbols)",
                  caption=("local files in: " + ", ".join(folders)) if folders else None, caption_justify="left")
    for col in ("symbol", "first", "last", "rows", "origin", "updated (UTC)"):
        table.add_column(col, justify="right" if col == "rows" else "left",
                         overflow="fold" if col == "origin" else "ellipsis", no_wrap=col != "origin")
    for rec in rows.itertuples(index=False):
        origin = Path(rec.origin).name if rec.origin.startswith("/") else rec.origin  # file name; folder below
        table.add_row(Text(rec.code), rec.first or "-", rec.last or "-", str(rec.rows), Text(origin),
                      (rec.updated or "-")[:16])
    out.print(table)


@app.command("verify")
@flowing_help
@_store_errors
def verify(
    symbols: Optional[list[str]] = typer.Argument(None, help="Only these codes (default: every stored symbol)."),
    half_days: bool = typer.Option(False, "--half-days", help="Also list zero-volume rows on half-day sessions."),
    cache: Optional[Path] = _CACHE_OPT,
) -> None:
    """Validate the stored bars of every symbol and origin, and list suspect rows.

    Invalid data (unsorted or duplicate dates, prices ≤ 0, high < max(open, close), low > min(open, close)) makes
    the exit code 1, naming the symbol and where its bars came from. Suspect rows — placeholder (O=H=L=C, zero
    volume), zero volume on a full session, a close-to-close jump beyond the daily limit, a bar on a non-session
    day — are listed but valid.

    Example:  ratingbt data verify
    """
    from rich.table import Table

    from engine.data.bars import validate_bars
    from engine.data.load import _unique_codes
    from engine.data.verify import find_suspects

    out, err = _console()
    store = _cache(cache)
    try:
        wanted = _unique_codes(symbols) if symbols else None
    except ValueError as exc:
        err.print(Text.assemble(("error:", "red"), f" {exc}"))
        raise typer.Exit(2)
    invalid: list[str] = []
    suspects = []
    checked: set[str] = set()
    groups = store.iter_origins(wanted)
    with _progress(err) as bar:
        task = bar.add_task("verify", total=None, item="")
        for code, origin, bars in groups:
            checked.add(code)
            bar.update(task, item=code)
            issues = validate_bars(bars, code)
            if issues:
                head = "; ".join(str(i) for i in issues[:3])
                invalid.append(f"{code} ({origin}): fails validation: {head}")
            else:
                suspects.extend(find_suspects(code, bars, include_half_days=half_days, validate=False))
            bar.advance(task)
    for code in wanted or []:
        if code not in checked:
            invalid.append(f"{code}: not in the store")
    if suspects:
        table = Table(title=f"suspect rows ({len(suspects)}; valid but probably wrong)")
        for col in ("symbol", "date", "rule", "reason"):
            table.add_column(col)
        for s in suspects:
            table.add_row(Text(s.code), s.date.date().isoformat(), Text(s.rule), Text(s.reason))
        out.print(table)
    for line in invalid:
        err.print(Text.assemble(("invalid:", "red"), f" {line}"))
    out.print(f"checked {len(checked)} symbol(s): {len(invalid)} invalid, {len(suspects)} suspect row(s)")
    if invalid:
        raise typer.Exit(1)
