"""``ratingbt ratings``: grow the rating-scale registry from reports, and measure a ratings file's coverage."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

__all__ = ["app"]

app = typer.Typer(help="Rating scales: propose registry entries from reports' 评级说明; coverage of a ratings file.",
                  no_args_is_help=True)


def _fail(console, message: str, code: int = 2) -> None:
    from rich.text import Text

    console.print(Text(f"error: {message}", style="red"), soft_wrap=True)
    raise typer.Exit(code)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


@app.command("propose")
def propose(
    folder: Path = typer.Argument(..., help="Folder of reports (.txt/.md/.pdf, searched recursively)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write one <broker>.yaml per broker here "
                                       "(default: all entries as YAML on stdout)."),
    ratings_dir: Path | None = typer.Option(None, "--ratings-dir", help="Registry whose aliases name the brokers "
                                            "(default configs/ratings)."),
) -> None:
    """Propose registry entries from the 评级说明 printed in a folder of reports.

    One entry per broker, with dated versions: each version is read from a real report (``source``: the file,
    ``as_of``/``valid_from``: its date). Brokers whose definitions changed over time are listed with what changed.

    Examples:

      ratingbt ratings propose reports/ > proposed.yaml

      ratingbt ratings propose reports/ -o proposed_ratings/
    """
    import yaml
    from rich.console import Console
    from rich.text import Text

    from engine.signals.scale_propose import propose_entries, read_report_scales, report_paths, version_changes
    from engine.signals.scales import load_registry, scale_to_yaml

    console = Console(stderr=True)
    if not folder.is_dir():
        _fail(console, f"{folder}: not a folder of reports")
    try:
        registry = load_registry(ratings_dir)
    except ValueError as exc:
        _fail(console, str(exc))
    errors: list[str] = []
    paths = report_paths(folder)
    reports = read_report_scales(paths, registry.book, root=folder.parent, errors=errors)
    proposals = propose_entries(reports)
    docs = {}
    for broker, prop in proposals.items():
        docs[broker] = {"broker": broker, "scales": [scale_to_yaml(v) for v in prop.versions]}
    if output is None:
        typer.echo(yaml.safe_dump(list(docs.values()), allow_unicode=True, sort_keys=False, width=120))
    else:
        for broker, doc in docs.items():
            name = broker.replace("/", "_").replace("(", "").replace(")", "")
            _write_atomic(output / f"{name}.yaml", yaml.safe_dump(doc, allow_unicode=True, sort_keys=False,
                                                                  width=120))
    console.print(f"{len(paths)} report(s), {len(reports)} with rating definitions, {len(proposals)} broker(s)")
    for prop in proposals.values():
        for line in version_changes(prop):
            console.print(Text(f"changed: {line}", style="yellow"), soft_wrap=True)
    for err in errors:
        console.print(Text(err, style="dim"), soft_wrap=True)


@app.command("coverage")
def coverage(
    file: Path = typer.Argument(..., help="Ratings file (CSV with broker, date and rating columns)."),
    ratings_dir: Path | None = typer.Option(None, "--ratings-dir", help="Registry folder (default configs/ratings)."),
    column_map: list[str] = typer.Option([], "--map", help="COLUMN=NAME_IN_FILE for a column under another name."),
) -> None:
    """Share of a ratings file's ratings whose broker has a registry scale on the rating's date.

    Prints the share, the stricter share whose rating word is in that scale, and the brokers without a scale with
    their rating counts.

    Examples:

      ratingbt ratings coverage ../shared/data/ratings/ratings_2024_2025.csv

      ratingbt ratings coverage vendor.csv --map report_date=发布时间
    """
    import pandas as pd
    from rich.console import Console

    from engine.signals.scale_propose import ratings_coverage
    from engine.signals.scales import load_registry
    from engine.signals.structured import map_columns, parse_column_map

    console = Console()
    try:
        registry = load_registry(ratings_dir)
        mapping = parse_column_map(column_map)
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        rename, _ = map_columns(frame.columns, mapping)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        _fail(console, f"{file}: {exc}" if str(file) not in str(exc) else str(exc))
    frame = frame[list(rename)].rename(columns=rename)
    missing = [c for c in ("broker", "report_date", "rating") if c not in frame.columns]
    if missing:
        _fail(console, f"{file}: no column for {', '.join(missing)} (map one with --map COLUMN=NAME)")
    cov = ratings_coverage(frame, registry)
    console.print(f"{file}: {cov.total} ratings; broker has a registry scale: {cov.with_scale} "
                  f"({100 * cov.share:.1f} %); rating word in that scale: {cov.word_in_scale} "
                  f"({100 * cov.share_words:.1f} %)")
    if cov.without:
        console.print(f"{len(cov.without)} broker(s) without a scale (ratings): "
                      + ", ".join(f"{b} {n}" for b, n in cov.without), soft_wrap=True)
    if cov.word_missing:
        console.print("words not in the broker's scale: "
                      + ", ".join(f"{b} {w} {n}" for b, w, n in cov.word_missing), soft_wrap=True)
