"""Terminal display helpers shared by the commands: rich tables that stay readable at 80–160 columns.

Conventions: every cell that may hold a string from a report, a config or a file is a :class:`rich.text.Text`
(never parsed as markup); numbers are right-aligned; long per-row notes go in a numbered list under the table
instead of a column squeezed to a few characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover - rich is imported when a table is drawn, not for --help
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

__all__ = ["cell", "compact_table", "print_notes", "fit_columns", "parse_columns"]


def cell(value: object, style: str = "") -> Text:
    """A table cell that is shown literally (``[red]`` in a broker name stays text)."""
    from rich.text import Text

    if isinstance(value, Text):
        return value
    return Text("" if value is None else str(value), style=style)


def compact_table(title: str | None = None, caption: str | None = None) -> Table:
    """A table with a heavy heading rule and no vertical lines: about a third less width than the default box."""
    from rich import box
    from rich.table import Table

    return Table(title=title, caption=caption, box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False,
                 title_justify="left", caption_justify="left", padding=(0, 1), collapse_padding=True)


def print_notes(console: Console, items: Iterable[tuple[str, str | Text]], *, title: str = "notes",
                style: str = "yellow") -> int:
    """Print ``label  text`` lines under a table, the text wrapped with a hanging indent; returns how many."""
    from rich.table import Table
    from rich.text import Text

    items = [(label, text) for label, text in items if text]
    if not items:
        return 0
    console.print(Text(f"{title}:", style="bold"))
    grid = Table.grid(padding=(0, 1), pad_edge=False)
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    for label, text in items:
        grid.add_row(Text(f"  {label}"), text if isinstance(text, Text) else Text(text, style=style))
    console.print(grid)
    return len(items)


def parse_columns(option: str | None, allowed: Sequence[str], option_name: str = "--columns") -> list[str] | None:
    """Split a ``--columns a,b,c`` option; ``ValueError`` names the unknown ones and the allowed values."""
    if option is None or not option.strip():
        return None
    chosen = [c.strip() for c in option.split(",") if c.strip()]
    unknown = [c for c in chosen if c not in allowed]
    if unknown:
        raise ValueError(f"{option_name}: unknown column(s) {', '.join(unknown)}; choose from: {', '.join(allowed)}")
    return chosen


def fit_columns(console: Console, build: Callable[[list[str]], Table], priority: Sequence[str],
                order: Sequence[str], required: int = 1) -> list[str]:
    """Columns to show: the first ``required`` of ``priority`` always, then each further one (in priority order)
    whose addition keeps the table within the console width unwrapped; returned in display ``order``."""
    chosen = list(priority[:required])
    unbounded = console.options.update_width(100_000)  # a Table's own measure is clamped to the width it is given
    for col in priority[required:]:
        trial = chosen + [col]
        if console.measure(build([c for c in order if c in trial]), options=unbounded).maximum <= console.width:
            chosen = trial
    return [c for c in order if c in chosen]


#: Statistics in the terminal summaries of ``backtest`` and ``run`` (titles and units from engine.report.METRICS).
SUMMARY_METRICS = ("total_return", "annual_return", "benchmark_total_return", "excess_return", "annual_excess_return",
                   "alpha", "beta", "information_ratio", "volatility", "sharpe", "max_drawdown", "turnover",
                   "costs_paid", "trades_filled", "orders_rejected")


def metrics_table(stats: dict, title: str, currency: str = "CNY", keys: Sequence[str] = SUMMARY_METRICS) -> Table:
    """Backtest statistics as a two-column table: title with unit (group shown once), value right-aligned."""
    from engine.report import metric_rows

    table = compact_table(title=title)
    table.add_column("", style="dim", no_wrap=True)
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    last_group = None
    for group, label, text in metric_rows(stats, currency, tuple(keys)):
        style = "red" if text.startswith("-") and len(text) > 1 else ""
        table.add_row(cell(group if group != last_group else ""), cell(label), cell(text, style))
        last_group = group
    return table


def flowing_help(command):
    """Decorator: join the lines of each docstring paragraph so ``--help`` rewraps it to the terminal width
    (source line breaks would leave ragged lines); indented paragraphs (examples) are marked ``\b`` so click prints
    them as written."""
    import inspect

    if command.__doc__:
        paragraphs = inspect.cleandoc(command.__doc__).split("\n\n")
        command.__doc__ = "\n\n".join(
            "\b\n" + p if p.startswith(" ") else " ".join(line.strip() for line in p.splitlines())
            for p in paragraphs)  # \b: click prints the paragraph as written (examples stay one line each)
    return command
