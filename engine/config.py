"""Run configs (YAML) validated with pydantic; errors name the key, the file and the allowed values.

A backtest config (see ``configs/seeds.yaml``)::

    name: seeds                      # runs/<name>/
    signals: {reports: ../shared/seeds}          # or a list of folders/files, or {file: signals.csv}
    data: {providers: [local, akshare, yfinance], prices: [../shared/data/prices, market.parquet], offline: false}
    strategy: {name: follow_ratings, params: {min_rating_level: 1, stop_loss: [0, 0.1]}}  # lists → sweep grid
    portfolio: {cash: 1000000, currency: CNY, execution: open, costs: default}
    benchmark: 000300.SH
    period: {start: 2024-01-01, end: null}
    executor: {workers: 4, scheduler: null}    # optional: sweeps / ingestion on worker processes or a Dask cluster
    output: runs

Relative paths are resolved against the config file's folder. Keys where users give several things take a list or a
single value (``signals.reports``). The strategy and its parameters are checked when the config loads (unknown
strategy, unknown parameter — named with the allowed ones —, bad values), not later at the backtest stage.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.yamlfile import parse_yaml

__all__ = ["BacktestConfig", "SignalsConfig", "DataConfig", "StrategyConfig", "PortfolioConfig", "RulesConfig",
           "PeriodConfig", "ExecutorConfig", "ConfigError", "load_backtest_config", "read_config_mapping",
           "format_validation_error", "COST_PROFILES"]

# ---------------------------------------------------------------------------------------------------------------
# backtest (issue 5)
# ---------------------------------------------------------------------------------------------------------------

PROVIDERS = ("local", "cache", "akshare", "yfinance")
# commission per side (fraction of traded value) and minimum per order (asset currency); taxes and exchange fees
# always follow the dated rules in engine.backtest.rules when costs are on
COST_PROFILES: dict[str, dict[str, float | bool]] = {
    "default": {"costs": True, "commission_rate": 0.00025, "commission_min": 5.0},
    "low": {"costs": True, "commission_rate": 0.0001, "commission_min": 0.0},
    "none": {"costs": False, "commission_rate": 0.0, "commission_min": 0.0},
}


class ConfigError(ValueError):
    """A config that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignalsConfig(_Strict):
    """Where signals come from: parsed report files or a ready signals table (CSV / parquet)."""

    reports: list[str] | None = Field(None, description="folders or files of broker reports (.txt/.pdf); one "
                                      "path or a list")
    file: str | None = Field(None, description="a signals table (CSV or parquet) with SIGNAL_COLUMNS")

    @field_validator("reports", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, (str, Path)):
            return [str(value)]
        if isinstance(value, list) and not value:
            raise ValueError("an empty list names no reports")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "SignalsConfig":
        if (self.reports is None) == (self.file is None):
            raise ValueError("set exactly one of signals.reports or signals.file")
        return self


class DataConfig(_Strict):
    """Price data: provider chain (tried in order), local prices folder, cache folder, offline switch."""

    providers: list[Literal["local", "cache", "akshare", "yfinance"]] = ["local", "cache", "akshare", "yfinance"]
    prices: list[str] | None = Field(None, description="local price sources, in order: folders of per-symbol "
                                                       "CSV/parquet files and files (per-symbol, or a long parquet "
                                                       "with a code column such as the market file)")
    prices_dir: str | None = Field(None, description="alias of data.prices with one folder (older configs)")
    cache: str | None = Field(None, description="price cache folder (default: RATINGBT_CACHE or ./data_cache)")
    offline: bool = Field(False, description="never call network providers")

    @field_validator("prices", mode="before")
    @classmethod
    def _prices_list(cls, value):
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError("data.prices: every entry must be a folder or file path (a non-empty string)")
        return value

    @model_validator(mode="after")
    def _prices_alias(self) -> "DataConfig":
        if self.prices is not None and self.prices_dir is not None:
            raise ValueError("set data.prices or data.prices_dir (its one-folder alias), not both")
        if self.prices is None and self.prices_dir is not None:
            self.prices = [self.prices_dir]
        return self


class StrategyConfig(_Strict):
    """Strategy module name (``strategies/<name>.py`` or a path to a .py file) and its parameters."""

    name: str = "follow_ratings"
    params: dict[str, Any] = Field(default_factory=dict)


class RulesConfig(_Strict):
    """Market rules switched on/off (all on by default)."""

    t_plus_one: bool = True
    lots: bool = True
    limits: bool = True
    suspensions: bool = True
    retry_rejected: bool = True
    derived_prices: bool = Field(True, description="no raw price that session: fill at the price from the nearest "
                                 "known adjustment factor (the adjusted price for a stock without raw prices); "
                                 "false = refuse the order (reason no_traded_price)")


class PortfolioConfig(_Strict):
    """Money and trading settings. Cash in ``currency``; rates are fractions of traded value."""

    cash: float = Field(1_000_000.0, gt=0)
    currency: Literal["CNY", "HKD"] = "CNY"
    execution: Literal["open", "close"] = "open"
    costs: Literal["default", "low", "none"] = "default"
    commission_rate: float | None = Field(None, ge=0, lt=0.01, description="overrides the costs profile")
    commission_min: float | None = Field(None, ge=0)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    fx: float | str | None = Field(None, description="HKD→CNY (CNY→HKD for an HKD account) for mixed portfolios: "
                                   "a constant rate or a CSV file with columns date,rate")
    hk_lots: dict[str, int] = Field(default_factory=dict, description="board lot per HK code (default 100)")
    sessions_per_year: float | None = Field(None, gt=0, description="annualisation; default derived from data")
    risk_free: float = Field(0.0, ge=0, lt=1, description="risk-free rate per year (fraction)")
    st_flags: str | None = Field(None, description="CSV code,start,end of ST periods (main-board ±5 % limit)")
    st_provider: Literal["none", "akshare"] = Field("none", description="akshare = add akshare's current ST list "
                                                    "(stored per day; applies from the day it was taken)")
    listings: str | None = Field(None, description="CSV code,listing_date (no price limit in the first 5 sessions)")


class PeriodConfig(_Strict):
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "PeriodConfig":
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"period.start {self.start} is after period.end {self.end}")
        return self


class ExecutorConfig(_Strict):
    """Where sweeps and bulk ingestion run (:mod:`engine.executor`): nothing set = in this process.

    ``workers: N`` starts N local worker processes (a Dask ``LocalCluster``; ``kind: processes`` for a plain process
    pool); ``scheduler: tcp://host:8786`` uses a running Dask cluster. ``chunk_size``: variants per kernel call.
    """

    workers: int | None = Field(None, ge=1, le=1024, description="local worker processes")
    scheduler: str | None = Field(None, description="Dask scheduler address, e.g. tcp://host:8786")
    kind: Literal["auto", "in-process", "processes", "dask"] = "auto"
    chunk_size: int | None = Field(None, ge=1, description="variants per chunk (default: about 4 chunks per worker)")

    @model_validator(mode="after")
    def _consistent(self) -> "ExecutorConfig":
        if self.scheduler and self.kind in ("in-process", "processes"):
            raise ValueError(f"executor.scheduler needs kind dask or auto, not {self.kind}")
        if self.scheduler and self.workers:
            raise ValueError("set executor.workers (local workers) or executor.scheduler (a cluster), not both")
        return self


class BacktestConfig(_Strict):
    """A whole backtest run (``ratingbt backtest CONFIG``)."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="run name: runs/<name>/")
    signals: SignalsConfig
    data: DataConfig = Field(default_factory=DataConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    portfolio: PortfolioConfig = Field(default_factory=PortfolioConfig)
    benchmark: str = "000300.SH"
    period: PeriodConfig = Field(default_factory=PeriodConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    output: str | None = Field(None, description="parent folder of runs/<name>/ (default RATINGBT_RUNS or ./runs)")
    base_dir: str = Field(".", description="folder relative paths are resolved against (the config's folder)")

    @field_validator("benchmark")
    @classmethod
    def _canonical_benchmark(cls, value: str) -> str:
        from engine.symbols import normalize_symbol

        return normalize_symbol(value)

    def report_paths(self) -> list[Path]:
        """``signals.reports`` resolved (:meth:`resolve`), one path per entry; ``[]`` with ``signals.file``."""
        return [p for p in (self.resolve(r) for r in (self.signals.reports or [])) if p is not None]

    def uses_shared(self, path: Path | None = None) -> bool:
        """True when the config names the shared folder (a ``shared:`` path), or ``path`` lies inside it: then a
        missing path is probably a missing ``../shared`` folder, and the hint says so."""
        from engine.paths import shared_dir

        values = [*(self.signals.reports or []), self.signals.file, self.data.prices_dir]
        if any(isinstance(v, str) and v.startswith("shared:") for v in values):
            return True
        if path is not None:
            try:
                Path(path).resolve().relative_to(shared_dir().resolve())
                return True
            except (ValueError, OSError):
                return False
        return False

    def resolve(self, path: str | None) -> Path | None:
        """``path`` resolved against :attr:`base_dir` (absolute paths unchanged); ``shared:rest`` means
        ``<shared folder>/rest`` (:func:`engine.paths.shared_dir`: ``RATINGBT_SHARED`` or ``../shared``)."""
        if path is None:
            return None
        if path.startswith("shared:"):
            from engine.paths import shared_dir

            return shared_dir() / path[len("shared:"):].lstrip("/")
        p = Path(path).expanduser()
        return p if p.is_absolute() else (Path(self.base_dir) / p).resolve()


def _allowed_keys(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """The keys allowed where ``loc`` points (its parent's fields), for an "unknown key" message; ``[]`` if unknown."""
    import typing

    current = model
    for part in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if not fields or str(part) not in fields:
            return []
        annotation = fields[str(part)].annotation
        candidates = [annotation, *typing.get_args(annotation)]
        current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    fields = getattr(current, "model_fields", None) or {}
    return [k for k in fields if k != "base_dir"]


def format_validation_error(err: ValidationError, source: str, model: type[BaseModel] | None = None) -> str:
    """One line per problem: ``source: key.path: message (allowed: …)``; with ``model`` an unknown key is listed
    with the keys allowed at that place."""
    lines = []
    for item in err.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        msg = item["msg"]
        allowed = item.get("ctx", {}).get("expected")
        if item["type"] == "extra_forbidden":
            msg = "unknown key"
            keys = _allowed_keys(model, tuple(item["loc"]))
            allowed = ", ".join(keys) if keys else None
        lines.append(f"{source}: {key}: {msg}" + (f" (allowed: {allowed})" if allowed and "allowed" not in msg
                                                    and "expected" not in msg.lower() else ""))
    return "\n".join(lines)


def check_strategy(cfg: "BacktestConfig") -> None:
    """Load the config's strategy and validate its parameters (every sweep combination) now, so a typo such as
    ``stop_los`` fails when the config loads, naming the key and the allowed ones. Raises :class:`ConfigError`
    (message without the file name; :func:`load_backtest_config` adds it)."""
    from engine.backtest.run import expand_grid
    from strategies import load_strategy

    name = cfg.strategy.name
    try:
        module = load_strategy(str(cfg.resolve(name)) if name.endswith(".py") else name)
    except (ValueError, FileNotFoundError, ImportError, TypeError, AttributeError) as exc:
        raise ConfigError(f"strategy.name: {exc}") from None
    expand_grid(module, cfg.strategy.params)


def read_config_mapping(path: str | Path, keys: str) -> dict[str, Any]:
    """The top-level mapping of a YAML config file; :class:`ConfigError` names the file when it is missing, not YAML,
    or not a mapping (``keys`` lists the expected top-level keys for that message, e.g. ``"name, signals, ..."``)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys ({keys})")
    return raw


def load_backtest_config(path: str | Path, overrides: dict[str, Any] | None = None) -> BacktestConfig:
    """Read and validate a YAML backtest config; raises :class:`ConfigError` naming the file and the keys."""
    path = Path(path)
    raw = read_config_mapping(path, "name, signals, strategy, ...")
    raw = {**raw, **(overrides or {})}
    raw.setdefault("base_dir", str(path.resolve().parent))
    try:
        cfg = BacktestConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path), BacktestConfig)) from None
    try:
        check_strategy(cfg)
    except ConfigError as exc:
        raise ConfigError("\n".join(f"{path}: {line}" for line in str(exc).splitlines())) from None
    return cfg

# --- end backtest block ----------------------------------------------------------------------------------------
