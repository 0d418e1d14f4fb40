"""The ``ratingbt`` command line: one typer app with a sub-command per stage.

Each stage's command lives in its own module under :mod:`engine.commands` and is only registered here.
"""

from __future__ import annotations

import typer

from engine import __version__
from engine.commands import backtest, brokers, data, ingest, ratings, run, score, screen, signals

app = typer.Typer(
    name="ratingbt",
    help=(
        "Turn Chinese broker research reports into dated signals, score each broker against its own rating "
        "scale, backtest portfolios with A-share/HK rules and screen the picks that are still live.\n\n"
        "All at once:  ratingbt run configs/seeds.yaml\n\n"
        "One stage at a time (each writes a plain table you can open in pandas):\n\n"
        "1. ratingbt data import ../shared/data/prices\n\n"
        "2. ratingbt ingest ../shared/seeds -o signals.csv\n\n"
        "3. ratingbt score --signals signals.csv -o scores/\n\n"
        "4. ratingbt backtest configs/seeds.yaml\n\n"
        "5. ratingbt screen --signals signals.csv --as-of 2026-02-27\n\n"
        "Every command has --help with examples."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")
app.add_typer(ratings.app, name="ratings")
app.command("ingest")(ingest.ingest)
app.command("score")(score.score)
app.command("backtest")(backtest.backtest)
app.command("screen")(screen.screen)
app.command("run")(run.run)
app.command("brokers")(brokers.brokers)
app.add_typer(signals.app, name="signals")


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
    """Console-script entry point (also ``python -m engine.cli``)."""
    app(prog_name="ratingbt")


if __name__ == "__main__":
    main()
