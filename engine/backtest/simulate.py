"""pandas ↔ kernel layer for the portfolio simulator: Panel + target weights + rules → arrays → results.

1. :func:`kernel_inputs` turns a :class:`~engine.data.panel.Panel` into the kernel's arrays (boards, lots, listing
   sessions, FX columns, the dated fee/limit table, traded-price scale and corporate actions from
   :mod:`engine.backtest.actions`) once.
2. :func:`simulate_weights` runs one variant (:func:`engine.kernels.simulate.simulate_nb`) and returns a
   :class:`SimulationResult` with an equity curve, positions and the trade/rejection table.
3. :func:`simulate_sweep` runs many variants in one kernel call (:func:`engine.kernels.simulate.simulate_batch_nb`).

Conventions: a weight row dated *t* is decided after the close of *t*; with ``execution="open"`` it fills at the
open of the next session, with ``"close"`` at the close of *t* (same-bar, for comparison with vectorbt). NaN weight
= leave that asset alone; 0 = exit. Money is in the account currency (``currency``: ``CNY`` or ``HKD``); an asset
in the other currency is converted with ``fx`` (CNY per HKD for a CNY account; HKD per CNY for an HKD account).
Positions are traded shares; trade prices are traded prices (``price_basis`` says where each came from).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from engine.data.panel import Panel
from engine.backtest.actions import Actions, scan
from engine.enums import FILL_REASON_NAMES, N_SIM_PARAMS, PRICE_BASIS_NAMES, SIDE_NAMES, SimParam

__all__ = ["SimulationRules", "KernelInputs", "SimulationResult", "SweepResult", "kernel_inputs",
           "simulate_weights", "simulate_sweep", "params_matrix", "align_weights"]


@dataclass(frozen=True)
class SimulationRules:
    """One variant's portfolio settings. Rates are fractions; cash and minimum commission in the account currency."""

    init_cash: float = 1_000_000.0
    execution: str = "open"              # "open" (next open, default) or "close" (same close)
    costs: bool = True                   # commission + dated stamp duty / fees / levies
    commission_rate: float = 0.00025     # per side, fraction of traded value (2.5 bp)
    commission_min: float = 5.0          # per order, in the traded asset's currency
    t_plus_one: bool = True
    lots: bool = True
    limits: bool = True
    suspensions: bool = True
    stop_loss: float = 0.0               # fraction below the average entry price; 0 = no stop
    retry_rejected: bool = True          # orders blocked by suspension / limit / T+1 stand until they fill
    derived_prices: bool = True          # no raw price that session: fill at the nearest factor's price (else refuse)

    def __post_init__(self) -> None:
        if self.execution not in ("open", "close"):
            raise ValueError(f"execution must be 'open' or 'close', got {self.execution!r}")
        if not self.init_cash > 0:
            raise ValueError(f"init_cash must be > 0, got {self.init_cash!r}")
        if not 0.0 <= self.stop_loss < 1.0:
            raise ValueError(f"stop_loss must be a fraction in [0, 1), got {self.stop_loss!r}")
        if self.commission_rate < 0 or self.commission_min < 0:
            raise ValueError("commission_rate and commission_min must be >= 0")

    def frictionless(self) -> "SimulationRules":
        """Same cash and execution with every rule and cost switched off (fractional shares)."""
        return replace(self, costs=False, t_plus_one=False, lots=False, limits=False, suspensions=False,
                       retry_rejected=False)


@dataclass
class KernelInputs:
    """Per-panel arrays the kernel reads (see :func:`engine.kernels.simulate.simulate_nb` for shapes)."""

    open: np.ndarray
    low: np.ndarray
    close: np.ndarray
    scale: np.ndarray      # traded ÷ adjusted price per session (engine.backtest.actions.traded_scale); (0, 0) if none
    basis: np.ndarray      # int8 PriceBasis of ``scale``; (0, 0) if no raw price at all
    tradable: np.ndarray
    st: np.ndarray
    board: np.ndarray
    lot_step: np.ndarray
    min_buy: np.ndarray
    listing_idx: np.ndarray
    fx_col: np.ndarray
    fx: np.ndarray
    fee_table: np.ndarray
    actions: Actions = field(default_factory=Actions.empty)  # corporate actions from the factor's steps

    def traded_close(self) -> np.ndarray:
        """``(n_sessions, n_assets)`` traded close (adjusted close × scale), NaN where there is no bar."""
        return self.close * self.scale if self.scale.shape == self.close.shape else self.close


def kernel_inputs(panel: Panel, *, currency: str = "CNY", fx: float | pd.Series | None = None,
                  hk_lots: Mapping[str, int] | None = None, st: np.ndarray | None = None,
                  listing_dates: Mapping[str, object] | None = None, warn_lots: bool = True) -> KernelInputs:
    """Build the kernel arrays for ``panel``.

    ``fx``: a constant or a Series indexed by date (forward-filled onto the sessions, then back-filled for the
    first sessions); needed only when the panel mixes currencies. ``st``: optional ``(n_sessions, n_assets)`` bool
    ST flags (main-board ±5 % limit). ``hk_lots``: board lot per HK code (default 100 shares, with a warning).
    ``listing_dates``: code → listing date for the 5-session no-limit IPO window; codes not in it fall back to the
    panel's ``first_bar_dates`` (earliest bar the data source holds), else the first bar inside the panel.
    Traded prices and corporate actions come from the adjustment factor (:mod:`engine.backtest.actions`).
    """
    from engine.backtest import rules

    if currency not in ("CNY", "HKD"):
        raise ValueError(f"portfolio.currency must be 'CNY' or 'HKD', got {currency!r}")
    panel.require("open", "low", "close", "raw_close", "volume", stage="the backtest")
    markets = np.asarray(panel.markets).astype(str)
    foreign = markets == ("HK" if currency == "CNY" else "A")
    trad_mask = np.asarray(panel.boards).astype(str) != "index"
    fx_col = np.where(foreign, 1, 0).astype(np.int64)
    fx_table = np.ones((len(panel.sessions), 2))
    priced = np.isfinite(panel.close).any(axis=0)
    if fx is not None or (foreign & trad_mask & priced).any():
        if fx is None:
            raise ValueError(f"the panel holds {'HK' if currency == 'CNY' else 'A-share'} stocks in a {currency} "
                             "account: set portfolio.fx (a constant rate or a series)")
        if isinstance(fx, pd.Series):
            series = fx.copy()
            series.index = pd.DatetimeIndex(series.index).normalize()
            aligned = series.sort_index().reindex(pd.DatetimeIndex(panel.sessions), method="ffill").bfill()
            if aligned.isna().any():
                raise ValueError("fx series does not cover the backtest sessions")
            fx_table[:, 1] = aligned.to_numpy(dtype=float)
        else:
            if not float(fx) > 0:
                raise ValueError(f"portfolio.fx must be > 0, got {fx!r}")
            fx_table[:, 1] = float(fx)
    step, min_buy = rules.lot_arrays(panel.codes, panel.boards, hk_lots, warn=warn_lots,
                                     priced=np.isfinite(panel.close).any(axis=0))
    st_arr = np.zeros((0, 0), dtype=np.bool_) if st is None else np.ascontiguousarray(st, dtype=np.bool_)
    if st is not None and st_arr.shape != panel.shape:
        raise ValueError(f"st flags have shape {st_arr.shape}, expected {panel.shape}")
    scale, basis, actions = scan(panel)
    return KernelInputs(
        open=np.ascontiguousarray(panel.open, dtype=float),
        low=np.ascontiguousarray(panel.low, dtype=float),  # (0, 0) is swapped in when no stop-loss is used
        close=np.ascontiguousarray(panel.close, dtype=float),
        scale=scale, basis=basis,
        tradable=np.ascontiguousarray(panel.tradable, dtype=np.bool_),
        st=st_arr,
        board=rules.board_codes(panel.boards),
        lot_step=step, min_buy=min_buy,
        listing_idx=rules.listing_indices(panel.close, {**(panel.first_bar_dates or {}), **(listing_dates or {})},
                                          panel.codes, panel.sessions),
        fx_col=fx_col, fx=fx_table,
        fee_table=rules.fee_table(panel.sessions),
        actions=actions,
    )


def params_matrix(variants: Sequence[SimulationRules], weight_sets: Sequence[int] | None = None) -> np.ndarray:
    """``(n_variants, N_SIM_PARAMS)`` float64 parameter matrix for the kernel (columns per ``SimParamT``)."""
    out = np.zeros((len(variants), N_SIM_PARAMS))
    for v, r in enumerate(variants):
        out[v, SimParam.INIT_CASH] = r.init_cash
        out[v, SimParam.COMMISSION_RATE] = r.commission_rate
        out[v, SimParam.COMMISSION_MIN] = r.commission_min
        out[v, SimParam.COSTS_ON] = float(r.costs)
        out[v, SimParam.EXEC_AT_OPEN] = float(r.execution == "open")
        out[v, SimParam.T_PLUS_ONE_ON] = float(r.t_plus_one)
        out[v, SimParam.LOTS_ON] = float(r.lots)
        out[v, SimParam.LIMITS_ON] = float(r.limits)
        out[v, SimParam.SUSPENSIONS_ON] = float(r.suspensions)
        out[v, SimParam.WEIGHT_SET] = 0 if weight_sets is None else weight_sets[v]
        out[v, SimParam.STOP_LOSS] = r.stop_loss
        out[v, SimParam.RETRY_ON] = float(r.retry_rejected)
        out[v, SimParam.DERIVED_ON] = float(r.derived_prices)
    return out


def align_weights(panel: Panel, weights: pd.DataFrame | np.ndarray) -> np.ndarray:
    """``(n_sessions, n_assets)`` float64 weights on the panel grid (a DataFrame is reindexed; missing = NaN)."""
    if isinstance(weights, pd.DataFrame):
        idx = pd.DatetimeIndex(weights.index).normalize()
        unknown = [c for c in weights.columns if c not in set(panel.codes)]
        if unknown:
            raise KeyError(f"weights name codes not in the panel: {', '.join(map(str, unknown[:10]))}")
        frame = weights.set_axis(idx).reindex(index=pd.DatetimeIndex(panel.sessions), columns=panel.codes)
        return np.ascontiguousarray(frame.to_numpy(dtype=float))
    arr = np.ascontiguousarray(weights, dtype=float)
    if arr.shape != panel.shape:
        raise ValueError(f"weights have shape {arr.shape}, expected {panel.shape} (sessions × assets)")
    return arr


@dataclass
class SimulationResult:
    """One variant's outcome. Money in the account currency; dates are session dates."""

    equity: pd.Series          # portfolio value at each close
    cash: pd.Series
    fees: pd.Series            # costs paid per session
    traded_value: pd.Series    # gross traded value per session (buys + sells)
    positions: pd.DataFrame    # traded shares held after each session (value = shares × traded close)
    records: np.ndarray        # trade_dt records of fills and rejections (``trades`` is the table view)
    panel: Panel
    rules: SimulationRules = field(default_factory=SimulationRules)
    inputs: KernelInputs | None = None

    @cached_property
    def trades(self) -> pd.DataFrame:
        """Fills and rejections as a table (see :func:`trades_frame`), built on first access."""
        return trades_frame(self.records, self.panel)

    @property
    def position_values(self) -> pd.DataFrame:
        """Value per asset at each close (shares × last known traded close × FX), account currency.

        On an ex-date without a bar the last close is the ex-reference price, as in the kernel."""
        traded = pd.DataFrame(self.inputs.traded_close(), index=self.positions.index, columns=self.positions.columns)
        acts = self.inputs.actions
        if len(acts.asset):
            rows = np.repeat(np.arange(len(acts.ptr) - 1), np.diff(acts.ptr))
            ref = traded.to_numpy().copy()
            keep = np.isnan(ref[rows, acts.asset])
            ref[rows[keep], acts.asset[keep]] = acts.data[keep, 2]
            traded = pd.DataFrame(ref, index=traded.index, columns=traded.columns)
        last_close = traded.ffill().to_numpy()
        rate = self.inputs.fx[:, self.inputs.fx_col]
        held = self.positions.to_numpy()
        values = np.where(held != 0, held * np.nan_to_num(last_close) * rate, 0.0)
        return pd.DataFrame(values, index=self.positions.index, columns=self.positions.columns)

    @property
    def corporate_actions(self) -> pd.DataFrame:
        """Corporate actions on stocks held at their ex-date: the :class:`~engine.backtest.actions.Actions` table
        plus ``shares_before`` (held after the previous session) and ``shares_after`` (the kernel's rule: whole
        shares with lots on, the fraction paid at the ex-reference price)."""
        table = self.inputs.actions.table
        if table.empty:
            return table.assign(shares_before=[], shares_after=[])
        idx = self.positions.index.get_indexer(pd.DatetimeIndex(table["date"]))
        cols = self.positions.columns.get_indexer(table["code"])
        held = self.positions.to_numpy()
        before = np.where(idx > 0, held[np.maximum(idx - 1, 0), cols], 0.0)
        after = before * table["ratio"].to_numpy()
        if self.rules.lots:
            after = np.floor(after + 1e-9)
        out = table.assign(shares_before=before, shares_after=after)
        return out[out["shares_before"] > 0].reset_index(drop=True)


def trades_frame(records: np.ndarray, panel: Panel) -> pd.DataFrame:
    """Trade records → table: date, code, side, shares, price, value, fees, requested, reason, filled, price_basis.

    ``code``, ``side`` and ``reason`` are categoricals (cheap for millions of rows; compare them like strings).
    """
    sessions = pd.DatetimeIndex(panel.sessions)
    return pd.DataFrame({
        "date": sessions.take(records["session"].astype(np.intp)),
        "code": pd.Categorical.from_codes(records["asset"], categories=pd.Index(panel.codes.astype(str)).unique()
                                          if len(set(panel.codes)) == len(panel.codes) else panel.codes.astype(str)),
        "side": pd.Categorical.from_codes(records["side"], categories=list(SIDE_NAMES)),
        "shares": records["shares"],
        "price": records["price"],
        "value": records["value"],
        "fees": records["fees"],
        "requested": records["requested"],
        "reason": pd.Categorical.from_codes(records["reason"], categories=list(FILL_REASON_NAMES)),
        "filled": records["shares"] > 0,
        "price_basis": pd.Categorical.from_codes(records["basis"], categories=list(PRICE_BASIS_NAMES)),
    })


def simulate_weights(panel: Panel, weights: pd.DataFrame | np.ndarray, rules: SimulationRules | None = None,
                     inputs: KernelInputs | None = None, **input_kwargs) -> SimulationResult:
    """Simulate one portfolio following ``weights`` on ``panel`` under ``rules``.

    ``inputs`` (from :func:`kernel_inputs`) may be passed to reuse arrays across calls; otherwise
    ``input_kwargs`` (currency, fx, hk_lots, st, listing_dates) go to :func:`kernel_inputs`.
    """
    from engine.kernels.simulate import simulate_nb

    rules = rules or SimulationRules()
    inputs = inputs or kernel_inputs(panel, **input_kwargs)
    w = align_weights(panel, weights)[None, :, :]
    row_active = ~np.isnan(w).all(axis=2)
    params = params_matrix([rules])
    low = inputs.low if rules.stop_loss > 0 else np.empty((0, 0))
    acts = inputs.actions
    equity, cash, fees, traded, positions, records = simulate_nb(
        w, row_active, params, inputs.open, low, inputs.close, inputs.scale, inputs.basis, inputs.tradable, inputs.st,
        inputs.board, inputs.lot_step, inputs.min_buy, inputs.listing_idx, inputs.fx_col, inputs.fx,
        inputs.fee_table, acts.ptr, acts.asset, acts.data, int(np.count_nonzero(~np.isnan(w)) + 64))
    idx = pd.DatetimeIndex(panel.sessions, name="date")
    cols = pd.Index(panel.codes.astype(str), name="code")
    return SimulationResult(
        equity=pd.Series(equity[0], index=idx, name="equity"),
        cash=pd.Series(cash[0], index=idx, name="cash"),
        fees=pd.Series(fees[0], index=idx, name="fees"),
        traded_value=pd.Series(traded[0], index=idx, name="traded_value"),
        positions=pd.DataFrame(positions, index=idx, columns=cols, copy=False),
        records=records,
        panel=panel,
        rules=rules,
        inputs=inputs,
    )


@dataclass
class SweepResult:
    """Many variants: ``equity`` etc. are DataFrames sessions × variants; ``counts`` (fills, rejects) per variant."""

    equity: pd.DataFrame
    cash: pd.DataFrame
    fees: pd.DataFrame
    traded_value: pd.DataFrame
    counts: pd.DataFrame


def simulate_sweep(panel: Panel, weight_sets: Sequence[pd.DataFrame | np.ndarray], variants: Sequence[SimulationRules],
                   weight_set_of_variant: Sequence[int] | None = None, inputs: KernelInputs | None = None,
                   **input_kwargs) -> SweepResult:
    """Run every variant in one parallel kernel call; variant ``v`` follows ``weight_sets[weight_set_of_variant[v]]``
    (default: variant ``v`` follows set ``v``, or set 0 when there is a single set)."""
    from engine.kernels.simulate import simulate_batch_nb

    inputs = inputs or kernel_inputs(panel, **input_kwargs)
    w = np.stack([align_weights(panel, ws) for ws in weight_sets])
    if weight_set_of_variant is None:
        weight_set_of_variant = [v if len(weight_sets) > 1 else 0 for v in range(len(variants))]
    if max(weight_set_of_variant) >= len(weight_sets):
        raise ValueError("weight_set_of_variant points past the weight sets given")
    params = params_matrix(variants, weight_set_of_variant)
    low = inputs.low if any(r.stop_loss > 0 for r in variants) else np.empty((0, 0))
    row_active = ~np.isnan(w).all(axis=2)
    acts = inputs.actions
    equity, cash, fees, traded, counts = simulate_batch_nb(
        w, row_active, params, inputs.open, low, inputs.close, inputs.scale, inputs.basis, inputs.tradable, inputs.st,
        inputs.board, inputs.lot_step, inputs.min_buy, inputs.listing_idx, inputs.fx_col, inputs.fx,
        inputs.fee_table, acts.ptr, acts.asset, acts.data)
    idx = pd.DatetimeIndex(panel.sessions, name="date")
    cols = pd.RangeIndex(len(variants), name="variant")
    return SweepResult(
        equity=pd.DataFrame(equity.T, index=idx, columns=cols),
        cash=pd.DataFrame(cash.T, index=idx, columns=cols),
        fees=pd.DataFrame(fees.T, index=idx, columns=cols),
        traded_value=pd.DataFrame(traded.T, index=idx, columns=cols),
        counts=pd.DataFrame(counts, index=cols, columns=["fills", "rejects"]),
    )
