"""The ``ratingbt`` command line: one typer app with a sub-command per stage.

Each stage's command lives in its own module under :mod:`engine.commands` and is only registered here.
"""

from __future__ import annotations

import typer

from engine import __version__
from engine.commands import backtest, data, ingest, run, score, screen

app = typer.Typer(
    name="ratingbt",
    help=(
        "Turn Chinese broker research reports into dated signals, score each broker against its own rating "
        "scale, backtest portfolios with A-share/HK rules and screen the picks that are still live.\n\n"
        "Typical flow:  ratingbt data import PRICES_DIR  →  ratingbt ingest REPORTS -o signals.csv  →  "
        "ratingbt score --signals signals.csv  →  ratingbt backtest configs/seeds.yaml  →  ratingbt screen.\n"
        "Or all at once:  ratingbt run configs/seeds.yaml"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")
app.command("ingest")(ingest.ingest)
app.command("score")(score.score)
app.command("backtest")(backtest.backtest)
app.command("screen")(screen.screen)
app.command("run")(run.run)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ratingbt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """ratingbt command line."""


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
