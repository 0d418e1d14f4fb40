"""Run a backtest from a config: signals + prices → strategy weights → simulator → tables and statistics.

1. :func:`engine.data.inputs.load_signals` reads a signals table or ingests report files, unless given.
2. :func:`engine.data.inputs.load_prices` builds the :class:`~engine.data.panel.Panel` for the strategy's universe
   and the benchmark, or :func:`engine.data.inputs.select_panel` takes them from a wider panel the caller loaded
   (``ratingbt run`` loads one panel for every stage).
3. :func:`expand_grid` turns list-valued strategy parameters into variants; each distinct set of weight-shaping
   parameters gives one weight set, kernel-applied ones (``stop_loss``) only change the variant's rules.
4. :func:`run_backtest` computes the weights, shifts them to decision rows (``execution: open`` trades a row dated
   *t* at *t*'s open, so the kernel sees it after the close of *t-1*), runs the first variant with full records
   (:func:`engine.backtest.simulate.simulate_weights`) and its statistics (:func:`engine.stats.summary`), then a
   grid's variants in chunks of kernel calls on the configured executor (:func:`engine.backtest.sweep.run_sweep`;
   one call in this process by default).
5. :func:`write_run` writes ``runs/<name>/`` (files listed in its docstring).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from engine.config import COST_PROFILES, BacktestConfig, ConfigError
from engine.data.inputs import load_prices, load_signals, select_panel
from engine.data.panel import Panel

__all__ = ["BacktestRun", "run_backtest", "expand_grid", "write_run", "to_decision_rows", "RUN_FILES",
           "backtest_codes"]

RUN_FILES = ("config.yaml", "equity.csv", "trades.csv", "positions.csv", "stats.json", "sweep.csv", "actions.csv")


def _accepts_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (list, tuple, set):
        return True
    return any(_accepts_list(a) for a in typing.get_args(annotation))


def expand_grid(module: ModuleType, raw: dict[str, Any]) -> list[Any]:
    """Validated ``Params`` for every combination of list-valued parameters (in config order, first varying last).

    A list given to a scalar parameter is a sweep axis; a list-typed parameter (``brokers``) sweeps only when given
    a list of lists. Errors name ``strategy.params.<key>`` and the allowed values.
    """
    from pydantic import ValidationError

    from engine.config import format_validation_error

    fields = module.Params.model_fields
    axes: dict[str, list[Any]] = {}
    for key, value in raw.items():
        if key in fields and isinstance(value, list):
            list_typed = _accepts_list(fields[key].annotation)
            if not list_typed or (value and all(isinstance(v, list) for v in value)):
                if not value:
                    raise ConfigError(f"strategy.params.{key}: an empty list gives no variants")
                axes[key] = value
    combos = [dict(zip(axes, values)) for values in itertools.product(*axes.values())] or [{}]
    out = []
    for combo in combos:
        try:
            out.append(module.Params(**{**raw, **combo}))
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, "strategy.params", module.Params)) from None
    return out


def to_decision_rows(weights: np.ndarray, execution: str) -> np.ndarray:
    """Strategy rows (the session a trade should fill) → kernel rows (the session after whose close it is decided).

    ``open``: the row for session *t* moves to *t-1*. The first session's row cannot fill at that session's open
    (no decision row precedes it), so its instructions fill at the next open instead, where the second row gives
    none (a backtest starting inside an open position still enters it, one session late, never early).
    ``close``: unchanged.
    """
    if execution == "close":
        return weights
    out = np.full_like(weights, np.nan)
    out[:-1] = weights[1:]
    if len(weights) > 1:
        carry = np.isnan(out[0]) & ~np.isnan(weights[0])
        out[0, carry] = weights[0, carry]
    return out


@dataclass
class BacktestRun:
    """Everything a run produced. Money in the account currency, fractions for rates."""

    config: BacktestConfig
    panel: Panel
    signals: pd.DataFrame
    equity: pd.DataFrame            # date index; equity, cash, benchmark (scaled to the starting cash)
    trades: pd.DataFrame
    positions: pd.DataFrame         # long table: date, code, shares, value, weight (non-zero holdings)
    stats: dict[str, Any]
    variants: pd.DataFrame          # one row per variant: its parameters
    sweep: pd.DataFrame | None = None  # variants × (parameters + stats) when a grid was given
    messages: list[str] = field(default_factory=list)
    actions: pd.DataFrame | None = None  # corporate actions applied to holdings (SimulationResult.corporate_actions)


def _rules_for(cfg: BacktestConfig, params: Any, module: ModuleType):
    from engine.backtest.simulate import SimulationRules

    profile = COST_PROFILES[cfg.portfolio.costs]
    kernel_params = getattr(module, "KERNEL_PARAMS", ())
    return SimulationRules(
        init_cash=cfg.portfolio.cash, execution=cfg.portfolio.execution, costs=bool(profile["costs"]),
        commission_rate=float(cfg.portfolio.commission_rate if cfg.portfolio.commission_rate is not None
                              else profile["commission_rate"]),
        commission_min=float(cfg.portfolio.commission_min if cfg.portfolio.commission_min is not None
                             else profile["commission_min"]),
        t_plus_one=cfg.portfolio.rules.t_plus_one, lots=cfg.portfolio.rules.lots, limits=cfg.portfolio.rules.limits,
        suspensions=cfg.portfolio.rules.suspensions, retry_rejected=cfg.portfolio.rules.retry_rejected,
        derived_prices=cfg.portfolio.rules.derived_prices,
        stop_loss=float(getattr(params, "stop_loss", 0.0)) if "stop_loss" in kernel_params else 0.0,
    )


def calendar_sessions_per_year(sessions: np.ndarray, benchmark: str) -> float:
    """Sessions per year of the benchmark's exchange (XHKG for HSI, else XSHG): the mean session count of the
    calendar years the backtest touches, from ``exchange_calendars`` (through
    :func:`engine.data.calendars.exchange_calendar`, which keeps a copy in the cache folder); falls back to the
    sessions present (:func:`engine.stats.sessions_per_year`) for years outside the calendar's range."""
    from engine import stats

    days = pd.DatetimeIndex(sessions)
    try:
        from engine.data.calendars import exchange_calendar

        cal = exchange_calendar("XHKG" if benchmark == "HSI" else "XSHG")
        counts = []
        for year in sorted(set(days.year)):
            lo, hi = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
            if lo >= cal.first_session and hi <= cal.last_session:
                counts.append(len(cal.sessions_in_range(lo, hi)))
        if counts:
            return float(np.mean(counts))
    except Exception:  # noqa: BLE001 - calendar data missing or out of range: use the data's own sessions
        pass
    return stats.sessions_per_year(days)


def _fx(cfg: BacktestConfig) -> float | pd.Series | None:
    """``portfolio.fx`` as a constant or a date-indexed Series read from its CSV (columns ``date,rate``)."""
    value = cfg.portfolio.fx
    if value is None or isinstance(value, (int, float)):
        return value
    path = cfg.resolve(value)
    if not path.is_file():
        raise ConfigError(f"portfolio.fx: {path} is neither a number nor an existing CSV file (date,rate)")
    table = pd.read_csv(path)
    if not {"date", "rate"} <= set(table.columns):
        raise ConfigError(f"{path}: portfolio.fx file needs columns date,rate (found {', '.join(table.columns)})")
    rate = pd.to_numeric(table["rate"], errors="coerce")
    if rate.isna().any() or (rate <= 0).any():
        line = int(np.flatnonzero(rate.isna() | (rate <= 0))[0]) + 2
        raise ConfigError(f"{path}, line {line}: rate must be a positive number")
    return pd.Series(rate.to_numpy(), index=pd.to_datetime(table["date"]))


def _universe(module: ModuleType, signals: pd.DataFrame, params_list: list[Any]) -> list[str]:
    if hasattr(module, "universe"):
        codes: list[str] = []
        for p in params_list:
            codes += [c for c in module.universe(signals, p) if c not in codes]
        return codes
    return list(dict.fromkeys(c for c in signals["code"] if c))


def _slice_panel(panel: Panel, rows: slice) -> Panel:
    """The sessions ``rows`` of ``panel`` (every other field kept, ``first_bar_dates`` included)."""
    sliced = {name: getattr(panel, name)[rows] for name in ("sessions", "open", "high", "low", "close", "raw_close",
                                                             "volume", "tradable")}
    return dataclasses.replace(panel, **sliced)


def backtest_codes(cfg: BacktestConfig, signals: pd.DataFrame) -> list[str]:
    """The codes a backtest of ``cfg`` needs prices for: its strategy's universe plus the benchmark (so a caller
    that loads one panel for several stages can include them)."""
    from strategies import load_strategy

    name = cfg.strategy.name
    module = load_strategy(str(cfg.resolve(name)) if name.endswith(".py") else name)
    return list(dict.fromkeys(_universe(module, signals, expand_grid(module, cfg.strategy.params)) + [cfg.benchmark]))


def _coverage_cut(panel: Panel, weight_sets: list[np.ndarray]) -> tuple[int | None, str]:
    """Without ``period.end``: the last session before which every stock the strategy still holds has prices.

    A stock counts when its last instruction on or before its last bar is a positive weight (it would be held
    with no price to value or sell it). Returns ``(row index, code)`` of the earliest such last bar, or
    ``(None, "")`` when no cut is needed."""
    has_bar = np.isfinite(panel.close)
    n_sessions = len(panel.sessions)
    best: tuple[int | None, str] = (None, "")
    for j, code in enumerate(panel.codes):
        bars = np.flatnonzero(has_bar[:, j])
        if len(bars) == 0 or bars[-1] >= n_sessions - 1:
            continue
        last = int(bars[-1])
        for w in weight_sets:
            given = np.flatnonzero(~np.isnan(w[: last + 1, j]))
            if len(given) and w[given[-1], j] > 0 and (best[0] is None or last < best[0]):
                best = (last, str(code))
    return best


def _positions_table(result, panel: Panel) -> pd.DataFrame:
    shares = result.positions.to_numpy()  # traded shares (whole with lots on), changed only by trades and actions
    values = result.position_values.to_numpy()
    weights = values / result.equity.to_numpy()[:, None]
    rows, cols = np.nonzero(result.positions.to_numpy())
    return pd.DataFrame({
        "date": result.positions.index[rows], "code": result.positions.columns[cols],
        "shares": shares[rows, cols], "value": values[rows, cols], "weight": weights[rows, cols],
    })


def run_backtest(cfg: BacktestConfig, *, signals: pd.DataFrame | None = None, panel: Panel | None = None,
                 source_panel: Panel | None = None, progress=None, executor=None,
                 sweep_dir: Path | None = None) -> BacktestRun:
    """Run the config end to end (see module docstring). ``signals`` / ``panel`` skip loading (tests, notebooks):
    ``panel`` is used as it is; ``source_panel`` is a wider panel (more codes, sessions, or the A+H calendar) from
    which the backtest selects its universe, period and the benchmark's exchange sessions instead of loading prices.

    A sweep runs on ``executor`` (an :class:`engine.executor.Executor`; default: one made from ``cfg.executor``,
    in-process when it is empty) in chunks of ``cfg.executor.chunk_size`` variants; ``sweep_dir`` keeps finished
    chunks so an interrupted sweep resumes (:func:`engine.backtest.sweep.run_sweep`).
    """
    from engine import stats
    from engine.backtest.simulate import kernel_inputs, simulate_weights
    from strategies import load_strategy

    def step(text: str) -> None:
        if progress is not None:
            progress(text)

    messages: list[str] = []
    name = cfg.strategy.name
    module = load_strategy(str(cfg.resolve(name)) if name.endswith(".py") else name)
    params_list = expand_grid(module, cfg.strategy.params)
    if signals is None:
        step("signals")
        signals = load_signals(cfg)
    start = pd.Timestamp(cfg.period.start) if cfg.period.start else None
    end = pd.Timestamp(cfg.period.end) if cfg.period.end else None
    if panel is None:
        step("prices")
        codes = _universe(module, signals, params_list)
        if not codes:
            raise ConfigError(f"no signal passes the filters of strategy {cfg.strategy.name!r} "
                              f"({len(signals)} signals read): loosen strategy.params")
        if start is None:
            if hasattr(module, "start_date"):
                firsts = [d for d in (module.start_date(signals, p) for p in params_list) if d is not None]
            else:
                firsts = list(signals.loc[signals["code"].isin(codes), "report_date"].dropna())
            if not firsts:
                raise ConfigError("period.start is not set and the followed signals carry no report_date")
            start = pd.Timestamp(min(firsts)).normalize()
        if source_panel is not None:
            from engine.data.inputs import calendar_for_benchmark

            missing = [c for c in codes + [cfg.benchmark] if c not in set(source_panel.codes)]
            if missing:
                raise ConfigError(f"the run's price panel lacks {', '.join(missing)}")
            panel = select_panel(source_panel, codes + [cfg.benchmark], start, end,
                                 calendar=calendar_for_benchmark(cfg.benchmark))
        else:
            panel = load_prices(cfg, codes + [cfg.benchmark], start, end)
        if end is None:  # drop the calendar's sessions after the last bar of any stock or the benchmark
            with_bar = np.flatnonzero(np.isfinite(panel.close).any(axis=1))
            if len(with_bar):
                panel = _slice_panel(panel, slice(0, int(with_bar[-1]) + 1))
    if len(panel.sessions) < 2:
        raise ConfigError(f"fewer than 2 sessions of prices between {start} and {end}")
    if cfg.benchmark not in set(panel.codes) or not np.isfinite(panel.close[:, panel.column(cfg.benchmark)]).any():
        from engine.data.inputs import MissingInputError

        key = "data.prices_dir" if cfg.data.prices_dir is not None else "data.prices"  # the key the user wrote
        where = (f"{key} {', '.join(str(cfg.resolve(p)) for p in cfg.data.prices)}" if cfg.data.prices
                 else "the price sources")
        raise MissingInputError(f"benchmark {cfg.benchmark} has no prices between {pd.Timestamp(panel.sessions[0]).date()} "
                                f"and {pd.Timestamp(panel.sessions[-1]).date()} in {where} "
                                f"(providers: {', '.join(cfg.data.providers)}{', offline' if cfg.data.offline else ''}): "
                                "add its price file or choose another benchmark")
    step("weights")
    kernel_params = set(getattr(module, "KERNEL_PARAMS", ()))
    weight_sets: list[np.ndarray] = []
    set_of_variant: list[int] = []
    seen: dict[str, int] = {}
    from engine.backtest.simulate import align_weights

    for params in params_list:
        key = json.dumps(params.model_dump(exclude=kernel_params), sort_keys=True, default=str)
        if key not in seen:
            strat = module.target_weights(signals, panel, params)
            seen[key] = len(weight_sets)
            weight_sets.append(align_weights(panel, strat))
        set_of_variant.append(seen[key])
    if cfg.period.end is None:
        cut, code = _coverage_cut(panel, weight_sets)
        if cut is not None:
            panel = _slice_panel(panel, slice(0, cut + 1))
            weight_sets = [w[: cut + 1] for w in weight_sets]
            messages.append(f"period ends {pd.Timestamp(panel.sessions[-1]).date()}: the last price of {code}, "
                            "which the strategy still holds then (set period.end to run longer; a stock is then "
                            "valued at its last bar and cannot be sold)")
    weight_sets = [to_decision_rows(w, cfg.portfolio.execution) for w in weight_sets]
    rules = [_rules_for(cfg, p, module) for p in params_list]
    from engine.backtest.reference import limit_inputs

    st, listings, notes = limit_inputs(cfg, panel)
    messages += notes
    inputs = kernel_inputs(panel, currency=cfg.portfolio.currency, fx=_fx(cfg), hk_lots=cfg.portfolio.hk_lots,
                           st=st, listing_dates=listings)
    ignored = inputs.actions.ignored
    if not ignored.empty:
        messages.append(f"{len(ignored)} downward step(s) of the adjustment factor (close / raw_close) beyond rounding "
                        f"noise ignored: no corporate action lowers it by < 10 % (first: {ignored['code'].iloc[0]} "
                        f"{pd.Timestamp(ignored['date'].iloc[0]).date()})")
    step("simulate")
    detail = simulate_weights(panel, weight_sets[set_of_variant[0]], rules[0], inputs=inputs)
    bench_close = panel.frame("close")[cfg.benchmark].ffill()
    bench_scaled = bench_close / bench_close.dropna().iloc[0] * cfg.portfolio.cash
    periods = cfg.portfolio.sessions_per_year or calendar_sessions_per_year(panel.sessions, cfg.benchmark)
    equity = detail.equity
    if hasattr(module, "overlay"):
        equity = module.overlay(detail.equity, detail.cash, bench_close, params_list[0]).rename("equity")
    summary = stats.summary(equity, bench_scaled, detail.fees, detail.traded_value, periods, cfg.portfolio.risk_free)
    trades = detail.trades
    summary.update({"trades_filled": int(trades["filled"].sum()), "orders_rejected": int((~trades["filled"]).sum()),
                    "first_session": str(pd.Timestamp(panel.sessions[0]).date()),
                    "last_session": str(pd.Timestamp(panel.sessions[-1]).date()), "benchmark": cfg.benchmark,
                    "strategy": cfg.strategy.name})
    variants = pd.DataFrame([p.model_dump() for p in params_list])
    variants.index.name = "variant"
    sweep = None
    if len(params_list) > 1:
        step(f"sweep of {len(params_list)} variants")
        from engine.backtest.sweep import SweepData, run_sweep
        from engine.executor import make_executor

        data = SweepData(inputs=inputs, weights=np.stack(weight_sets), sessions=panel.sessions,
                         bench_scaled=bench_scaled, bench_close=bench_close, periods=periods,
                         risk_free=cfg.portfolio.risk_free, use_low=any(r.stop_loss > 0 for r in rules),
                         strategy=(str(cfg.resolve(name)) if name.endswith(".py") else name)
                         if hasattr(module, "overlay") else None)
        own = executor is None
        executor = make_executor(cfg.executor) if own else executor
        try:
            table, notes = run_sweep(data, rules, set_of_variant, executor=executor,
                                     chunk_size=cfg.executor.chunk_size, store_dir=sweep_dir, progress=step,
                                     strategy_params=[p.model_dump() for p in params_list])
        finally:
            if own:
                executor.close()
        messages += notes
        grid = pd.DataFrame([{k: (json.dumps(val, ensure_ascii=False) if isinstance(val, list) else val)
                              for k, val in p.model_dump().items()} for p in params_list], index=variants.index)
        sweep = pd.concat([grid, table.set_axis(variants.index)], axis=1)
    equity_frame = pd.DataFrame({"equity": equity, "cash": detail.cash, "benchmark": bench_scaled})
    return BacktestRun(config=cfg, panel=panel, signals=signals, equity=equity_frame, trades=trades,
                       positions=_positions_table(detail, panel), stats=summary, variants=variants, sweep=sweep,
                       messages=messages, actions=detail.corporate_actions)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return _jsonable(value.item())
    return value


def write_run(run: BacktestRun, out_dir: Path, command_line: str = "") -> list[Path]:
    """Write a run folder and return the paths written:

    - ``config.yaml``: the resolved config (every default filled in) plus ``command_line`` and the git revision;
    Tables go through :func:`engine.tables.write_table` (CSV; parquet above 100,000 rows, e.g. ``positions``):

    - ``equity.csv``: ``date,equity,cash,benchmark`` (account currency; benchmark scaled to the starting cash);
    - ``trades.csv``: ``date,code,side,shares,price,value,fees,requested,reason,filled,price_basis`` (rejections
      have 0 shares; ``price_basis``: traded / nearest_factor / adjusted);
    - ``positions.csv``: ``date,code,shares,value,weight`` for every non-zero holding after each session;
    - ``price_sources.csv``: where each code's prices came from (:func:`engine.data.load.sources_table`: provider or
      local file with its modification time, size and SHA-256);
    - ``stats.json``: :func:`engine.stats.summary` of the first variant plus counts (fractions, not percent);
    - ``sweep.csv``: one row per variant (its parameters and statistics) when the config had a grid;
    - ``actions.csv``: corporate actions applied to holdings (date, code, ratio, dividend per share, …) when any.
    """
    import subprocess

    import yaml

    from engine.tables import write_table

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                  cwd=Path(__file__).parent, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        revision = ""
    resolved = {"command_line": command_line, "code_revision": revision,
                "config": json.loads(run.config.model_dump_json())}
    path = out_dir / "config.yaml"
    path.write_text(yaml.safe_dump(resolved, allow_unicode=True, sort_keys=False), encoding="utf-8")
    written.append(path)
    written.append(write_table(run.equity.rename_axis("date").reset_index(), out_dir, "equity", float_format="%.6f"))
    trades = run.trades.copy()
    trades["date"] = pd.DatetimeIndex(trades["date"]).strftime("%Y-%m-%d")
    written.append(write_table(trades, out_dir, "trades", float_format="%.6f"))
    positions = run.positions.copy()
    positions["date"] = pd.DatetimeIndex(positions["date"]).strftime("%Y-%m-%d")
    written.append(write_table(positions, out_dir, "positions", float_format="%.6f"))
    from engine.data.load import sources_table

    written.append(write_table(sources_table(run.panel), out_dir, "price_sources"))
    path = out_dir / "stats.json"
    path.write_text(json.dumps({k: _jsonable(v) for k, v in run.stats.items()}, indent=2, ensure_ascii=False),
                    encoding="utf-8")
    written.append(path)
    if run.sweep is not None:
        path = out_dir / "sweep.csv"
        run.sweep.to_csv(path, float_format="%.10g")
        written.append(path)
    if run.actions is not None and not run.actions.empty:
        actions = run.actions.assign(date=pd.DatetimeIndex(run.actions["date"]).strftime("%Y-%m-%d"))
        written.append(write_table(actions, out_dir, "actions", float_format="%.6f"))
    return written
