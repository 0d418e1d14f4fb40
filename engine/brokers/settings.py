"""The brokers run config (``configs/real_ratings.yaml``), validated with pydantic; errors name the key.

Example (every key but ``name`` and ``ratings`` optional)::

    name: real_ratings                       # output folder runs/<name>/
    ratings: shared:data/ratings/ratings_2024_2025.csv   # ratings CSV or signals table (.csv / .parquet)
    prices:
      market: shared:data/market/ashare_daily_2024_2025.parquet   # long whole-market parquet (adjusted)
      benchmarks: [shared:data/prices/SH000300.csv]              # per-symbol benchmark files
      # dir: shared:data/prices     # or per-symbol CSVs; neither: the price cache (ratingbt data import)
      benchmark_fallback: 000300.SH  # for ratings whose own benchmark (上证综指 …) has no prices here
    filters: {start: 2024-01-01, end: null, markets: [A], industries: [], levels: [], brokers: []}
    league: {by: [broker, analyst], min_ratings: 20}
    events: {pre: 20, post: 250, min_events: 30}
    score: {excess_mode: absolute, range_leg: long, as_of: null, ratings_dir: null}
    figures: [png, svg]                      # also write the figures as files (empty: only in report.html)
    output: runs                             # parent of runs/<name>/

Relative paths are resolved against the config file's folder; ``shared:rest`` means ``<shared folder>/rest``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.config import ConfigError, format_validation_error
from engine.yamlfile import parse_yaml

__all__ = ["BrokersConfig", "load_brokers_config", "resolve_path", "is_brokers_config"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PricesSection(_Strict):
    """Where prices come from: a long market parquet plus benchmark files, a per-symbol folder, or the cache."""

    market: str | None = Field(None, description="long parquet: code, date, open, high, low, close, volume (lots)")
    benchmarks: list[str] = Field(default_factory=list, description="per-symbol benchmark files (SH000300.csv)")
    dir: str | None = Field(None, description="folder of per-symbol CSVs (SZ300474.csv, SH000300.csv)")
    benchmark_fallback: str | None = Field(None, description="index to score against when a rating's own "
                                           "benchmark has no prices (e.g. 000300.SH); null = leave those unscored")

    @model_validator(mode="after")
    def _one_source(self) -> "PricesSection":
        if self.market and self.dir:
            raise ValueError("set prices.market (with prices.benchmarks) or prices.dir, not both")
        return self


class FiltersSection(_Strict):
    start: date | None = None
    end: date | None = None
    markets: list[Literal["A", "HK"]] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    levels: list[float] = Field(default_factory=list, description="rating levels +2 … -2 to keep")
    brokers: list[str] = Field(default_factory=list)


class LeagueSection(_Strict):
    by: list[Literal["broker", "analyst"]] = Field(default_factory=lambda: ["broker", "analyst"])
    min_ratings: int = Field(20, ge=1, description="rated signals a broker / analyst needs to be listed")


class EventsSection(_Strict):
    pre: int = Field(20, ge=0, le=250, description="sessions before the event")
    post: int = Field(250, ge=1, le=2520, description="sessions after the event")
    min_events: int = Field(30, ge=1, description="events a broker needs for its own curve")


class ScoreSection(_Strict):
    excess_mode: Literal["absolute", "relative"] = "absolute"
    range_leg: Literal["short", "long"] = "long"
    as_of: date | None = None
    ratings_dir: str | None = None


class BrokersConfig(_Strict):
    """A ``ratingbt brokers`` run (see module docstring)."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$")
    ratings: str
    prices: PricesSection = Field(default_factory=PricesSection)
    filters: FiltersSection = Field(default_factory=FiltersSection)
    league: LeagueSection = Field(default_factory=LeagueSection)
    events: EventsSection = Field(default_factory=EventsSection)
    score: ScoreSection = Field(default_factory=ScoreSection)
    figures: list[Literal["png", "svg"]] = Field(default_factory=list)
    output: str | None = None
    base_dir: str = "."

    def resolve(self, path: str | None) -> Path | None:
        return resolve_path(path, self.base_dir)


def resolve_path(path: str | None, base_dir: str | Path = ".") -> Path | None:
    """``path`` against ``base_dir``; ``shared:rest`` → :func:`engine.paths.shared_dir` / rest; ``None`` stays."""
    if path is None:
        return None
    if path.startswith("shared:"):
        from engine.paths import shared_dir

        return shared_dir() / path[len("shared:"):].lstrip("/")
    p = Path(path).expanduser()
    return p if p.is_absolute() else (Path(base_dir) / p).resolve()


def load_brokers_config(path: str | Path) -> BrokersConfig:
    """Read and validate a brokers YAML config; :class:`engine.config.ConfigError` names the file and keys."""
    from engine.config import read_config_mapping

    path = Path(path)
    raw = read_config_mapping(path, "name, ratings, prices, ...")
    raw.setdefault("base_dir", str(path.resolve().parent))
    try:
        return BrokersConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path))) from None


def is_brokers_config(path: str | Path) -> bool:
    """True for a YAML file whose top level has ``ratings:`` and no ``strategy:`` / ``signals:`` (a brokers run,
    not a backtest); False for anything unreadable (the caller's own loader then reports it)."""
    try:
        raw = parse_yaml(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(raw, dict) and "ratings" in raw and "strategy" not in raw and "signals" not in raw
