"""``ratingbt run`` (not implemented yet)."""

from __future__ import annotations

import typer


def run() -> None:
    """Not implemented yet."""
    typer.echo("ratingbt run: not implemented yet", err=True)
    raise typer.Exit(2)
