"""``ratingbt score`` (not implemented yet)."""

from __future__ import annotations

import typer


def score() -> None:
    """Not implemented yet."""
    typer.echo("ratingbt score: not implemented yet", err=True)
    raise typer.Exit(2)
