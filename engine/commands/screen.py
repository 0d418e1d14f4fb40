"""``ratingbt screen`` (not implemented yet)."""

from __future__ import annotations

import typer


def screen() -> None:
    """Not implemented yet."""
    typer.echo("ratingbt screen: not implemented yet", err=True)
    raise typer.Exit(2)
