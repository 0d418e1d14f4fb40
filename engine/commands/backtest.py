"""``ratingbt backtest`` (not implemented yet)."""

from __future__ import annotations

import typer


def backtest() -> None:
    """Not implemented yet."""
    typer.echo("ratingbt backtest: not implemented yet", err=True)
    raise typer.Exit(2)
