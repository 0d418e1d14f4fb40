"""``ratingbt brokers``: which broker is right? Every stage in order, each leaving a plain table.

Steps of :func:`run_brokers` (each names the function doing the work):

1. ratings → signals: :func:`engine.brokers.inputs.read_ratings` (or a signals table given directly), then
   :func:`engine.brokers.inputs.filter_signals` (period, market, industry, rating level, brokers).
2. prices: :func:`engine.brokers.inputs.market_panel` (long market parquet + benchmark files),
   :func:`engine.score.prices.panel_from_price_dir` (per-symbol CSVs) or the price cache
   (:func:`engine.score.prices.panel_for_signals`).
3. score: :func:`engine.score.run_scoring` — each rating against its broker's own band (registry scale), direction,
   touch, excess vs the benchmark (no event study there: step 6 has its own).
4. targets: :func:`engine.brokers.targets.target_outcomes` where target prices exist.
5. league: :func:`engine.brokers.league.league_table` with the rank of :mod:`engine.brokers.ranking`.
6. rating changes: :func:`engine.brokers.events.rating_events` (−20 … +250 sessions).
7. output (:meth:`BrokersRun.write`): ``signals.csv``, ``scores.csv``, ``league.csv``, ``rating_events.csv``,
   ``targets.csv``, ``report.html`` (the run report with the broker section of :mod:`engine.brokers.section`),
   figures as PNG/SVG on request (:mod:`engine.brokers.plots`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from engine.brokers.events import rating_events
from engine.brokers.inputs import SignalFilter, filter_signals, market_panel, read_ratings, substitute_benchmarks
from engine.brokers.league import league_table
from engine.brokers.ranking import BASIS_DIRECTION
from engine.brokers.settings import BrokersConfig
from engine.brokers.targets import target_outcomes
from engine.data.panel import Panel

__all__ = ["BrokersRun", "run_brokers", "run_from_config", "load_prices"]


@dataclass
class BrokersRun:
    """Tables of a brokers run (columns: README, section *Which broker is right?*) and notes for the user."""

    signals: pd.DataFrame
    scores: pd.DataFrame
    league: pd.DataFrame
    events: pd.DataFrame
    targets: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    title: str = "Which broker is right?"

    def brokers_without_scale(self) -> list[str]:
        """Brokers of the league ranked on direction and excess only (no rating scale in the registry)."""
        part = self.league[(self.league["group_by"] == "broker") & (self.league["rank_basis"] == BASIS_DIRECTION)]
        return part["group"].astype(str).tolist()

    def write(self, out_dir: str | Path, *, figures: tuple[str, ...] = (), report: bool = True,
              run_name: str | None = None) -> list[Path]:
        """Write the tables (:func:`engine.tables.write_table`: CSV, parquet above 100k rows; atomic), ``report.html``
        and ``figures/*.<fmt>``; returns the paths."""
        from engine.brokers import plots
        from engine.tables import write_table

        out = Path(out_dir)
        paths = [write_table(frame, out, name) for name, frame in (
            ("signals", self.signals), ("scores", self.scores), ("league", self.league),
            ("rating_events", self.events), ("targets", self.targets))]
        if not figures and not report:
            return paths
        built = plots.build_figures(self.league, self.scores, self.events)
        try:
            svgs = plots.render_svgs(built) if report or "svg" in figures else {}
            if figures:
                paths += plots.save_figures(built, out / "figures", formats=figures, svgs=svgs)
                if "png" in figures and not plots.cjk_font_available():
                    self.notes.append("no Chinese font found for the PNG figures: broker names show as boxes there "
                                      "(install fonts-noto-cjk; the SVG files and report.html keep them as text)")
            if report:
                paths.append(self.write_report(out / "report.html", run_name=run_name or out.name, svgs=svgs))
        finally:
            plots.close_figures(built)
        return paths

    def write_report(self, path: str | Path, run_name: str, svgs: dict[str, str] | None = None) -> Path:
        """The run report (:func:`engine.report.write_report`) with the broker section first."""
        from engine.brokers.section import broker_section_html
        from engine.report import write_report
        from engine.score.scorecard import scorecard

        section = broker_section_html(self.league, self.scores, self.events, notes=self.notes, svgs=svgs)
        return write_report(path, title=self.title, run_name=run_name, scores=self.scores,
                            scorecard=scorecard(self.scores, by=("broker", "action", "market")),
                            extra_sections=[("brokers", "Which broker is right?", section)])


def load_prices(signals: pd.DataFrame, *, market: Path | None = None, benchmarks: tuple[Path, ...] = (),
                prices_dir: Path | None = None, as_of: object | None = None) -> Panel:
    """The panel for ``signals`` (step 2 of the module docstring): every stock with a code and its benchmark."""
    from engine.score.prices import codes_for_signals, panel_for_signals, panel_from_price_dir

    codes = codes_for_signals(signals)
    if market is not None:
        return market_panel(market, [c for c in codes], benchmarks, end=as_of)
    if prices_dir is not None:
        return panel_from_price_dir(codes, prices_dir)
    return panel_for_signals(signals, None, offline=True, as_of=as_of)


def run_brokers(signals: pd.DataFrame, panel: Panel, *, flt: SignalFilter = SignalFilter(),
                by: tuple[str, ...] = ("broker", "analyst"), min_ratings: int = 20, pre: int = 20,
                post: int = 250, min_events: int = 30, as_of: object | None = None, excess_mode: str = "absolute",
                benchmark_fallback: str | None = None,
                range_leg: str = "long", ratings_dir: str | Path | None = None,
                notes: list[str] | None = None, progress: Callable[[str], None] | None = None) -> BrokersRun:
    """Steps 1 (filter) and 3–6 of the module docstring on a signals table and its panel."""
    from engine.score import ScoreConfig, run_scoring
    from engine.score.scales import default_scale_lookup
    from engine.signals.scales import load_registry

    notes = list(notes or [])
    timings: dict[str, float] = {}

    def step(name: str) -> float:
        if progress is not None:
            progress(name)
        return time.perf_counter()

    t = step("filter")
    table, dropped = filter_signals(signals, flt)
    notes += [f"{n} rows left out: {reason}" for reason, n in dropped.items()]
    if table.empty:
        raise ValueError("no rating left after the filters" + (f" ({', '.join(dropped)})" if dropped else ""))
    table, substituted, bench_notes = substitute_benchmarks(table, panel, benchmark_fallback)
    notes += bench_notes
    timings["filter"] = time.perf_counter() - t

    t = step("score")
    config = ScoreConfig(excess_mode=excess_mode, range_leg=range_leg)  # type: ignore[arg-type]
    lookup = default_scale_lookup(table, registry_dir=ratings_dir)
    result = run_scoring(table, panel, as_of=as_of, config=config, scale_lookup=lookup, event_study_enabled=False)
    scores = result.scores
    timings["score"] = time.perf_counter() - t

    t = step("targets")
    targets = target_outcomes(scores[scores["horizon_leg"] != "short"], panel)
    timings["targets"] = time.perf_counter() - t

    t = step("league")
    registry = load_registry(ratings_dir)

    def scale_name(broker: str) -> str:
        scale = registry.get(broker)
        return scale.source if scale is not None and scale.stock is not None and scale.stock.bands else ""

    league, skipped = league_table(scores, targets=targets, range_leg=range_leg, by=by, min_ratings=min_ratings,
                                   scale_name=scale_name)
    if substituted:
        is_broker = league["group_by"] == "broker"
        extra = league.loc[is_broker, "group"].map(substituted)
        league.loc[is_broker & extra.notna(), "judged_by"] = (league.loc[is_broker, "judged_by"] + " · benchmark "
                                                              + extra).where(extra.notna())
    for group_by, n in skipped.items():
        if n:
            notes.append(f"{n} {group_by}{'s' if n > 1 else ''} with fewer than {min_ratings} ratings not listed")
    timings["league"] = time.perf_counter() - t

    t = step("events")
    events = rating_events(table, panel, pre=pre, post=post, min_events=min_events, excess_mode=excess_mode)
    timings["events"] = time.perf_counter() - t
    run = BrokersRun(signals=table, scores=scores, league=league, events=events, targets=targets, notes=notes,
                     timings=timings)
    missing = run.brokers_without_scale()
    if missing:
        notes.append(f"{len(missing)} brokers have no rating scale (ranked on direction and excess only): "
                     + ", ".join(missing))
    return run


def run_from_config(cfg: BrokersConfig, progress: Callable[[str], None] | None = None) -> BrokersRun:
    """A whole run of a :class:`BrokersConfig`: read the ratings, load prices, then :func:`run_brokers`."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    if progress:
        progress("ratings")
    ratings_path = cfg.resolve(cfg.ratings)
    ratings_dir = cfg.resolve(cfg.score.ratings_dir)
    read = read_ratings(ratings_path, ratings_dir)
    timings["ratings"] = time.perf_counter() - t
    t = time.perf_counter()
    if progress:
        progress("prices")
    as_of = pd.Timestamp(cfg.score.as_of) if cfg.score.as_of else None
    panel = load_prices(read.signals, market=cfg.resolve(cfg.prices.market),
                        benchmarks=tuple(cfg.resolve(b) for b in cfg.prices.benchmarks),
                        prices_dir=cfg.resolve(cfg.prices.dir), as_of=as_of)
    timings["prices"] = time.perf_counter() - t
    f = cfg.filters
    flt = SignalFilter(start=pd.Timestamp(f.start) if f.start else None, end=pd.Timestamp(f.end) if f.end else None,
                       markets=tuple(f.markets), industries=tuple(f.industries), levels=tuple(f.levels),
                       brokers=tuple(f.brokers))
    run = run_brokers(read.signals, panel, flt=flt, by=tuple(cfg.league.by), min_ratings=cfg.league.min_ratings,
                      pre=cfg.events.pre, post=cfg.events.post, min_events=cfg.events.min_events, as_of=as_of,
                      excess_mode=cfg.score.excess_mode, range_leg=cfg.score.range_leg, ratings_dir=ratings_dir,
                      benchmark_fallback=cfg.prices.benchmark_fallback, notes=read.notes, progress=progress)
    run.timings = {**timings, **run.timings}
    return run
