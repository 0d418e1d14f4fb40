"""``ratingbt data``: fetch, import, status and verify the local price cache."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manage the local price cache (data_cache/).", no_args_is_help=True)


@app.command("status")
def status() -> None:
    """List cached symbols with their date ranges and sources."""
    typer.echo("not implemented yet", err=True)
    raise typer.Exit(2)
