"""``ratingbt ingest`` (not implemented yet)."""

from __future__ import annotations

import typer


def ingest() -> None:
    """Not implemented yet."""
    typer.echo("ratingbt ingest: not implemented yet", err=True)
    raise typer.Exit(2)
