"""Follow broker ratings: hold every signal that passes the filters from the first session after publication.

Reads: signals columns ``code``, ``broker``, ``report_date``, ``kind``, ``rating_level``, ``action``, ``market``,
``report_type``, ``horizon_months``; the panel's ``sessions`` and ``codes`` only (no prices).
Returns: target weights (see :mod:`strategies`), one row per session on which the book changes (``rebalance:
on_change``) or every session (``daily``).

Each signal opens an *episode* for its stock, from the first session strictly after ``report_date`` until the
earliest of: the horizon end (``report_date`` + horizon months; the signal's own horizon, the upper end of a range
such as ``6-12``, or ``horizon_months``), ``hold_sessions`` sessions after entry, or the first session after a
downgrade of the same stock by the same broker (``action == "downgrade"`` or a lower ``rating_level``). A stock is
held while any of its episodes is open. Weights: equal, or proportional to the rating level (``conviction``), each
capped at ``max_weight``; at most ``max_positions`` names (the earliest entered first, then higher conviction).
A ``stop_loss`` is applied by the simulator (T+1 and price limits included).
"""

from __future__ import annotations

import re
import warnings
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from engine.data.panel import Panel

KERNEL_PARAMS = ("stop_loss",)


class Params(BaseModel):
    """Parameters of ``follow_ratings`` (fractions, not percent)."""

    model_config = ConfigDict(extra="forbid")

    min_rating_level: float = Field(1.0, description="lowest rating level followed (+2 top, +1 second, ...)")
    brokers: list[str] | None = Field(None, description="only these brokers (exact names); None = all")
    actions: list[str] | None = Field(None, description="only these actions (initiate/reiterate/upgrade/downgrade/'')")
    markets: list[str] | None = Field(None, description="only these markets: A, HK")
    report_types: list[str] | None = Field(None, description="only these report types")
    kinds: list[str] = Field(["rating"], description="signal kinds followed: rating, mention")
    horizon_months: float | None = Field(None, gt=0, description="holding horizon; None = each signal's own")
    default_horizon_months: float = Field(6.0, gt=0, description="horizon when a signal states none")
    hold_sessions: int | None = Field(None, gt=0, description="exit after this many sessions")
    exit_on_downgrade: bool = True
    stop_loss: float = Field(0.0, ge=0.0, lt=1.0, description="stop below the average entry price (0 = none)")
    weighting: Literal["equal", "conviction"] = "equal"
    max_positions: int | None = Field(None, gt=0)
    max_weight: float = Field(1.0, gt=0.0, le=1.0, description="cap per name, fraction of portfolio value")
    gross_exposure: float = Field(1.0, gt=0.0, le=1.0, description="fraction of portfolio value invested")
    rebalance: Literal["on_change", "daily"] = "on_change"


def horizon_of(text: str, default: float) -> float:
    """Months of a horizon string: ``"12"`` → 12, ``"6-12"`` → 12 (the upper end); empty → ``default``."""
    numbers = re.findall(r"\d+(?:\.\d+)?", str(text or ""))
    return float(numbers[-1]) if numbers else default


def select_signals(signals: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The signals that pass every filter (and have a rating level and a report date)."""
    keep = signals["kind"].isin(params.kinds) & (signals["rating_level"] >= params.min_rating_level)
    keep &= signals["report_date"].notna()
    for column, allowed in (("broker", params.brokers), ("action", params.actions), ("market", params.markets),
                            ("report_type", params.report_types)):
        if allowed is not None:
            keep &= signals[column].isin(allowed)
    return signals[keep]


def universe(signals: pd.DataFrame, params: Params) -> list[str]:
    """Codes this strategy may hold (the prices to load): those of the followed signals."""
    return sorted(set(select_signals(signals, params)["code"]) - {""})


def start_date(signals: pd.DataFrame, params: Params) -> pd.Timestamp | None:
    """Publication date of the first followed signal (the default start of a backtest)."""
    dates = select_signals(signals, params)["report_date"].dropna()
    return None if dates.empty else pd.Timestamp(dates.min())


def episodes(signals: pd.DataFrame, panel: Panel, params: Params) -> pd.DataFrame:
    """One row per followed signal: code, broker, level, entry and exit session indices (exit exclusive)."""
    sessions = pd.DatetimeIndex(panel.sessions)
    chosen = select_signals(signals, params)
    in_panel = chosen["code"].isin(set(panel.codes))
    missing = sorted(set(chosen.loc[~in_panel, "code"]) - {""})
    if missing:
        warnings.warn(f"follow_ratings: no prices for {', '.join(missing)}; their signals are skipped", stacklevel=2)
    no_code = chosen.loc[chosen["code"] == "", "name"].astype(str).tolist()
    if no_code:
        warnings.warn(f"follow_ratings: {len(no_code)} signal(s) without a security code are skipped: "
                      f"{', '.join(no_code)}", stacklevel=2)
    chosen = chosen[in_panel]
    columns = ["code", "broker", "rating_level", "entry", "exit"]
    if chosen.empty:
        return pd.DataFrame(columns=columns)
    published = pd.DatetimeIndex(chosen["report_date"])
    entry = sessions.searchsorted(published, side="right")  # first session strictly after publication
    # horizon end per signal: report date + months (the config's, else the signal's own), grouped by month count
    if params.horizon_months is not None:
        months = np.full(len(chosen), float(params.horizon_months))
    else:
        months = np.array([horizon_of(h, params.default_horizon_months) for h in chosen["horizon_months"]])
    horizon_end = np.empty(len(chosen), dtype="datetime64[ns]")
    for m in np.unique(months):
        sel = months == m
        shifted = published[sel] + pd.DateOffset(months=int(m), days=int(round((m % 1) * 30)))
        horizon_end[sel] = shifted.to_numpy(dtype="datetime64[ns]")
    exit_ = sessions.searchsorted(pd.DatetimeIndex(horizon_end), side="left")
    if params.hold_sessions is not None:
        exit_ = np.minimum(exit_, entry + params.hold_sessions)
    if params.exit_on_downgrade:
        exit_ = np.minimum(exit_, _downgrade_exits(signals, chosen, sessions))
    keep = (entry < len(sessions)) & (exit_ > entry)
    return pd.DataFrame({"code": chosen["code"].to_numpy()[keep], "broker": chosen["broker"].to_numpy()[keep],
                         "rating_level": chosen["rating_level"].to_numpy(dtype=float)[keep],
                         "entry": entry[keep], "exit": exit_[keep]}, columns=columns)


def _downgrade_exits(signals: pd.DataFrame, chosen: pd.DataFrame, sessions: pd.DatetimeIndex) -> np.ndarray:
    """Session index after the first later downgrade (``action == "downgrade"`` or a lower rating level) of the
    same stock by the same broker, per chosen signal; ``len(sessions)`` when there is none."""
    pool = signals[signals["code"].isin(set(chosen["code"])) & signals["report_date"].notna()]
    dates = pool["report_date"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    is_down = (pool["action"] == "downgrade").to_numpy()
    levels = pool["rating_level"].to_numpy(dtype=float)
    groups: dict[tuple[str, str], np.ndarray] = {}
    for key, idx in pool.groupby(["code", "broker"], sort=False).indices.items():
        groups[key] = idx
    out = np.full(len(chosen), len(sessions), dtype=np.int64)
    c_dates = chosen["report_date"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    c_levels = chosen["rating_level"].to_numpy(dtype=float)
    for k, (code, broker) in enumerate(zip(chosen["code"].to_numpy(), chosen["broker"].to_numpy())):
        idx = groups.get((code, broker))
        if idx is None or len(idx) < 2:
            continue
        later = (dates[idx] > c_dates[k]) & (is_down[idx] | (levels[idx] < c_levels[k]))
        if later.any():
            first = pd.Timestamp(dates[idx][later].min())
            out[k] = sessions.searchsorted(first, side="right")
    return out


def target_weights(signals: pd.DataFrame, panel: Panel, params: Params) -> pd.DataFrame:
    """Target weights per session (see module docstring)."""
    n_sessions, n_assets = panel.shape
    col = {code: j for j, code in enumerate(panel.codes)}
    conviction = np.zeros((n_sessions, n_assets))
    first_entry = np.full((n_sessions, n_assets), np.inf)
    for ep in episodes(signals, panel, params).itertuples(index=False):
        j = col[ep.code]
        span = slice(ep.entry, ep.exit)
        conviction[span, j] = np.maximum(conviction[span, j], max(ep.rating_level, 1e-9))
        first_entry[span, j] = np.minimum(first_entry[span, j], ep.entry)
    weights = np.full((n_sessions, n_assets), np.nan)
    ever = np.zeros(n_assets, dtype=bool)
    previous = np.zeros(n_assets)
    for i in range(n_sessions):
        active = np.flatnonzero(conviction[i] > 0)
        if params.max_positions is not None and len(active) > params.max_positions:
            order = np.lexsort((-conviction[i, active], first_entry[i, active]))
            active = active[order[: params.max_positions]]
        row = np.zeros(n_assets)
        if len(active):
            raw = np.ones(len(active)) if params.weighting == "equal" else conviction[i, active]
            row[active] = np.minimum(raw / raw.sum() * params.gross_exposure, params.max_weight)
        ever |= row > 0
        if params.rebalance == "daily" or not np.array_equal(row, previous):
            weights[i, ever] = row[ever]
        previous = row
    return pd.DataFrame(weights, index=pd.DatetimeIndex(panel.sessions, name="date"), columns=panel.codes)
