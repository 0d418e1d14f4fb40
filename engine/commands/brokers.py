"""``ratingbt brokers``: the broker league table, rating-change event study, figures and the HTML report."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from engine.commands._display import flowing_help

if TYPE_CHECKING:  # pragma: no cover
    from engine.brokers.inputs import SignalFilter

__all__ = ["brokers", "print_league", "execute", "run_config", "filter_from_config"]

#: Terminal columns (heading, priority order below); the default view keeps as many as fit.
LEAGUE_HEADINGS = ("rank", "broker", "judged by", "horizon", "n", "complete", "band hit [95% CI]",
                   "dir. hit [95% CI]", "mean excess (t)", "IC", "bullish", "target hit")
LEAGUE_PRIORITY = ("rank", "broker", "band hit [95% CI]", "dir. hit [95% CI]", "n", "mean excess (t)", "judged by",
                   "complete", "horizon", "IC", "bullish", "target hit")
_LEFT = {"broker", "judged by", "horizon"}


def _pct(x: float, digits: int = 0) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.{digits}f}%"


def _ci(rate: float, low: float, high: float) -> str:
    return "–" if rate != rate else f"{_pct(rate)} [{_pct(low)}–{_pct(high)}]"


def print_league(league, console, group_by: str = "broker", max_rows: int = 60, wide: bool = False) -> None:
    """The league rows of ``group_by`` as a terminal table (the columns that fit unless ``wide``)."""
    from engine.commands._display import cell, compact_table, fit_columns

    part = league[league["group_by"] == group_by]
    rows = []
    for r in part.head(max_rows).to_dict("records"):
        t = r["excess_t_stat"]
        rows.append({
            "rank": "" if r["rank"] is None or r["rank"] != r["rank"] else str(int(r["rank"])),
            "broker": str(r["group"]), "judged by": str(r["judged_by"]), "horizon": str(r["horizon"]),
            "n": str(r["n_ratings"]), "complete": str(r["n_complete"]),
            "band hit [95% CI]": _ci(r["hit_rate"], r["hit_rate_low"], r["hit_rate_high"]),
            "dir. hit [95% CI]": _ci(r["direction_hit_rate"], r["direction_low"], r["direction_high"]),
            "mean excess (t)": _pct(r["mean_excess"], 1) + ("" if t != t else f" ({t:.1f})"),
            "IC": "–" if r["ic_spearman"] != r["ic_spearman"] else f"{r['ic_spearman']:.2f}",
            "bullish": _pct(r["share_bullish"]), "target hit": _pct(r["target_hit_rate"]),
        })
    title = (f"League of {group_by}s ({len(part)}): ranked by the Wilson 95% lower bound of the own-band hit rate "
             "(brokers with a scale), else of the direction hit rate")

    def build(columns: list[str]):
        table = compact_table(title=title, caption="complete windows only; --wide for every column; league.csv "
                                                   "has every statistic")
        for col in columns:
            heading = group_by if col == "broker" else col
            table.add_column(heading, justify="left" if col in _LEFT else "right", no_wrap=col not in _LEFT,
                             overflow="fold")
        for row in rows:
            table.add_row(*[cell(row[c]) for c in columns])
        return table

    columns = list(LEAGUE_HEADINGS) if wide else fit_columns(console, build, LEAGUE_PRIORITY, LEAGUE_HEADINGS,
                                                             required=3)
    console.print(build(columns))
    if len(part) > max_rows:
        console.print(f"… and {len(part) - max_rows} more (league.csv)")


def _date(value: Optional[str], option: str):
    import pandas as pd

    if value is None:
        return None
    try:
        return pd.Timestamp(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


@flowing_help
def brokers(
    config: Optional[Path] = typer.Argument(None, help="Brokers run config (configs/real_ratings.yaml); options "
                                            "given on the command line override it."),
    ratings: Optional[Path] = typer.Option(None, "--ratings", "-r", help="Ratings CSV (date/report_date, broker, "
                                           "code, rating, …) or a signals table (.csv/.parquet) from `ratingbt "
                                           "ingest`."),
    from_store: bool = typer.Option(False, "--store", help="Read the signals history of the store (filled by "
                                    "`ratingbt signals import/fetch`) instead of a file."),
    market_file: Optional[Path] = typer.Option(None, "--market-file", help="Whole-market long parquet (code, date, "
                                               "open, high, low, close, volume)."),
    benchmark: list[Path] = typer.Option([], "--benchmark", help="Benchmark price file (SH000300.csv); repeat."),
    prices: Optional[Path] = typer.Option(None, "--prices", help="Folder of per-symbol CSVs instead of "
                                          "--market-file (default without either: the price cache)."),
    benchmark_fallback: Optional[str] = typer.Option(None, "--benchmark-fallback", help="Index to score against "
                                                     "when a rating's own benchmark has no prices (e.g. "
                                                     "000300.SH); the league row says so."),
    start: Optional[str] = typer.Option(None, "--start", help="First publication date, YYYY-MM-DD."),
    end: Optional[str] = typer.Option(None, "--end", help="Last publication date, YYYY-MM-DD."),
    market: list[str] = typer.Option([], "--market", help="A or HK; repeat for both."),
    industry: list[str] = typer.Option([], "--industry", help="Industry name as in the signals; repeat."),
    level: list[float] = typer.Option([], "--level", help="Rating level to keep (2 most bullish … -2); repeat."),
    broker: list[str] = typer.Option([], "--broker", help="Only this broker; repeat."),
    by: Optional[str] = typer.Option(None, "--by", help="League groupings: broker, analyst (default both)."),
    min_ratings: Optional[int] = typer.Option(None, "--min-ratings", help="Ratings a broker/analyst needs to be "
                                              "listed (default 20)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Score with prices up to this date only."),
    ratings_dir: Optional[Path] = typer.Option(None, "--ratings-dir", help="Scale registry folder (default "
                                               "configs/ratings)."),
    figures: str = typer.Option("", "--figures", help="Also write the figures as files: png, svg or png,svg."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder (default runs/<name>/)."),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write report.html."),
    wide: bool = typer.Option(False, "--wide", help="Every league column in the terminal."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Which broker is right? A league table of brokers and analysts, each judged by its own rating scale.

    Scores every rating against its broker's own band (configs/ratings), then ranks brokers by the lower end of the
    95% Wilson interval of their band hit rate (brokers without a scale: of their direction hit rate, ranked
    apart and said so), studies upgrades / downgrades / initiations / reiterations from -20 to +250 sessions and
    writes league.csv, rating_events.csv, scores.csv, targets.csv, signals.csv and report.html.

    Examples:

      ratingbt brokers configs/real_ratings.yaml

      ratingbt brokers -r ../shared/data/ratings/ratings_2024_2025.csv --market-file ../shared/data/market/ashare_daily_2024_2025.parquet --benchmark ../shared/data/prices/SH000300.csv --figures png,svg

      ratingbt brokers -r signals.parquet --start 2024-01-01 --end 2024-06-30 --level 2 --by broker
    """
    from rich.console import Console
    from rich.text import Text

    from engine.brokers.inputs import SignalFilter
    from engine.brokers.settings import BrokersConfig, load_brokers_config
    from engine.config import ConfigError

    err = Console(stderr=True)
    started = time.perf_counter()
    try:
        cfg = load_brokers_config(config) if config is not None else None
    except ConfigError as exc:
        err.print(Text(f"error: {exc}", style="red"))
        raise typer.Exit(2) from None
    if cfg is None:
        if ratings is None and not from_store:
            raise typer.BadParameter("give a CONFIG, --ratings FILE or --store", param_hint="--ratings")
        cfg = BrokersConfig(name="brokers", ratings=str(ratings or "store"))
    groupings = tuple(g.strip() for g in by.split(",") if g.strip()) if by else tuple(cfg.league.by)
    bad = [g for g in groupings if g not in ("broker", "analyst")]
    if bad:
        raise typer.BadParameter(f"{', '.join(bad)}; allowed: broker, analyst", param_hint="--by")
    formats = tuple(f.strip() for f in figures.split(",") if f.strip()) or tuple(cfg.figures)
    bad = [f for f in formats if f not in ("png", "svg")]
    if bad:
        raise typer.BadParameter(f"{', '.join(bad)}; allowed: png, svg", param_hint="--figures")
    bad = [m for m in market if m not in ("A", "HK")]
    if bad:
        raise typer.BadParameter(f"{', '.join(bad)}; allowed: A, HK", param_hint="--market")
    f = cfg.filters
    flt = SignalFilter(start=_date(start, "--start") or (_date(str(f.start), "start") if f.start else None),
                       end=_date(end, "--end") or (_date(str(f.end), "end") if f.end else None),
                       markets=tuple(market or f.markets), industries=tuple(industry or f.industries),
                       levels=tuple(level or f.levels), brokers=tuple(broker or f.brokers))
    as_of_ts = _date(as_of, "--as-of") or (_date(str(cfg.score.as_of), "as_of") if cfg.score.as_of else None)
    registry_dir = ratings_dir or cfg.resolve(cfg.score.ratings_dir)
    execute(cfg, flt, groupings, formats, ratings=ratings, from_store=from_store, market_file=market_file,
            benchmark=tuple(benchmark), prices=prices, min_ratings=min_ratings, as_of=as_of_ts,
            benchmark_fallback=benchmark_fallback,
            ratings_dir=registry_dir, out=out, no_report=no_report, wide=wide, debug=debug, started=started)


def filter_from_config(cfg) -> "SignalFilter":
    """The :class:`engine.brokers.inputs.SignalFilter` of a config's ``filters:`` section."""
    import pandas as pd

    from engine.brokers.inputs import SignalFilter

    f = cfg.filters
    return SignalFilter(start=pd.Timestamp(f.start) if f.start else None, end=pd.Timestamp(f.end) if f.end else None,
                        markets=tuple(f.markets), industries=tuple(f.industries), levels=tuple(f.levels),
                        brokers=tuple(f.brokers))


def run_config(config: Path, output: Optional[Path] = None, name: Optional[str] = None) -> None:
    """``ratingbt run CONFIG`` for a brokers config (one with a top-level ``ratings:`` key): the whole run as
    the config says, into ``output/<name>`` (default ``runs/<name>``)."""
    import pandas as pd
    from rich.console import Console
    from rich.text import Text

    from engine.brokers.settings import load_brokers_config
    from engine.config import ConfigError

    try:
        cfg = load_brokers_config(config)
    except ConfigError as exc:
        Console(stderr=True).print(Text(f"error: {exc}", style="red"))
        raise typer.Exit(2) from None
    if name:
        cfg = cfg.model_copy(update={"name": name})
    out = Path(output) / cfg.name if output else None
    execute(cfg, filter_from_config(cfg), tuple(cfg.league.by), tuple(cfg.figures), out=out,
            as_of=pd.Timestamp(cfg.score.as_of) if cfg.score.as_of else None,
            ratings_dir=cfg.resolve(cfg.score.ratings_dir))


def execute(cfg, flt, groupings: tuple[str, ...], formats: tuple[str, ...], *, ratings: Optional[Path] = None,
            from_store: bool = False, market_file: Optional[Path] = None, benchmark: tuple[Path, ...] = (),
            prices: Optional[Path] = None, min_ratings: Optional[int] = None, as_of=None,
            ratings_dir: Optional[Path] = None, benchmark_fallback: Optional[str] = None,
            out: Optional[Path] = None, no_report: bool = False,
            wide: bool = False, debug: bool = False, started: Optional[float] = None) -> None:
    """Read, price, score, rank, write and print (the body of ``ratingbt brokers``; options override ``cfg``)."""
    from rich.console import Console
    from rich.text import Text

    from engine.brokers.inputs import read_ratings
    from engine.brokers.run import load_prices, run_brokers
    from engine.commands._display import print_notes
    from engine.paths import runs_dir

    console = Console()
    err = Console(stderr=True)
    started = started if started is not None else time.perf_counter()
    try:
        with console.status("reading ratings…") as status:
            if from_store:
                from engine.brokers.store_input import signals_from_store

                signals, notes = signals_from_store(flt)
            else:
                read = read_ratings(ratings or cfg.resolve(cfg.ratings), ratings_dir)
                signals, notes = read.signals, read.notes
            status.update("loading prices…")
            market_path = market_file or (None if prices else cfg.resolve(cfg.prices.market))
            bench = tuple(benchmark) or tuple(cfg.resolve(b) for b in cfg.prices.benchmarks)
            panel = load_prices(signals, market=market_path, benchmarks=bench,
                                prices_dir=prices or cfg.resolve(cfg.prices.dir), as_of=as_of)
            run = run_brokers(signals, panel, flt=flt, by=groupings,
                              min_ratings=min_ratings if min_ratings is not None else cfg.league.min_ratings,
                              pre=cfg.events.pre, post=cfg.events.post, min_events=cfg.events.min_events,
                              as_of=as_of, excess_mode=cfg.score.excess_mode, range_leg=cfg.score.range_leg,
                              ratings_dir=ratings_dir, notes=notes,
                              benchmark_fallback=benchmark_fallback or cfg.prices.benchmark_fallback,
                              progress=lambda s: status.update(f"{s}…"))
            status.update("writing…")
            out_dir = out or (Path(cfg.resolve(cfg.output)) if cfg.output else runs_dir()) / cfg.name
            paths = run.write(out_dir, figures=formats, report=not no_report, run_name=cfg.name)
    except (ValueError, FileNotFoundError, LookupError, ImportError) as exc:
        from engine.commands._errors import debug_enabled

        if debug or debug_enabled():
            raise
        err.print(Text(f"error: {exc}", style="red"))
        raise typer.Exit(2) from None
    for group_by in groupings:
        print_league(run.league, console, group_by=group_by, wide=wide,
                     max_rows=60 if group_by == "broker" else 20)
    print_notes(console, [("•", n) for n in run.notes])
    console.print(Text(f"wrote {out_dir}: " + ", ".join(p.name for p in paths)))
    console.print(Text(f"done in {time.perf_counter() - started:.1f} s", style="bold green"))
