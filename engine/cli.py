"""The ``ratingbt`` command line: one typer app with a sub-command per stage.

Each stage's command lives in its own module under :mod:`engine.commands` and is only registered here. Command
modules import their heavy packages (pandas, numba, plotly, akshare …) inside the command function, so
``ratingbt --help`` and every ``--help`` page load none of them. Errors of every command follow
:mod:`engine.commands._errors` (one or two lines and a non-zero exit; ``--debug`` anywhere for the traceback).
"""

from __future__ import annotations

from typing import NoReturn

import typer

from engine import __version__
from engine.commands import backtest, brokers, data, ingest, ratings, run, score, screen, signals
from engine.commands._errors import CommandGroup, TidyCommand

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
        "Every command has --help with examples. Errors are one or two lines naming the file, key or symbol; "
        "--debug shows the traceback."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: the rich help pages import ~0.3 s of rich/markdown/pygments
    cls=CommandGroup,
)
app.add_typer(data.app, name="data", cls=CommandGroup)
app.add_typer(ratings.app, name="ratings", cls=CommandGroup)
app.command("ingest", cls=TidyCommand)(ingest.ingest)
app.command("score", cls=TidyCommand)(score.score)
app.command("backtest", cls=TidyCommand)(backtest.backtest)
app.command("screen", cls=TidyCommand)(screen.screen)
app.command("run", cls=TidyCommand)(run.run)
app.command("brokers", cls=TidyCommand)(brokers.brokers)
app.add_typer(signals.app, name="signals", cls=CommandGroup)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ratingbt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error (any position on the "
                               "command line; also RATINGBT_DEBUG=1). Without it, errors are one or two lines."),
) -> None:
    """ratingbt command line."""


def main() -> None:
    """Console-script entry point (also ``python -m engine.cli``): tunes the process
    (:func:`engine.commands._process.tune_process`), runs the command, then :func:`exit_now`."""
    from engine.commands._process import tune_process

    tune_process()
    try:
        app(prog_name="ratingbt")
    except SystemExit as exc:
        exit_now(exc.code)
    exit_now(0)


def exit_now(code: object) -> NoReturn:
    """End the process with ``code`` (``SystemExit`` semantics: None = 0, a text is printed and gives 1) without
    the interpreter's own shutdown.

    Python's shutdown walks every object left (pandas, numba, the run's tables) through the garbage collector:
    0.6-0.7 s after ``ratingbt run``, for memory the OS takes back anyway. Everything that matters is done here
    first, in the order the interpreter would do it: wait for non-daemon threads, run the ``atexit`` handlers
    (logging, worker processes, file locks), flush stdout and stderr; then :func:`os._exit`. Every file the
    command wrote is closed by then (writes are atomic renames)."""
    import atexit
    import os
    import sys
    import threading

    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``ratingbt … | head``): nothing more to write
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
