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
    missing = sorted(set(chosen.loc[~in_panel, "code"]))
    if missing:
        warnings.warn(f"follow_ratings: no prices for {', '.join(missing)}; their signals are skipped", stacklevel=2)
    chosen = chosen[in_panel]
    rows = []
    for sig in chosen.itertuples(index=False):
        published = pd.Timestamp(sig.report_date)
        entry = int(sessions.searchsorted(published, side="right"))  # first session strictly after publication
        if entry >= len(sessions):
            continue
        months = params.horizon_months or horizon_of(sig.horizon_months, params.default_horizon_months)
        horizon_end = published + pd.DateOffset(months=int(months), days=int(round((months % 1) * 30)))
        exit_ = int(sessions.searchsorted(horizon_end, side="left"))
        if params.hold_sessions is not None:
            exit_ = min(exit_, entry + params.hold_sessions)
        if params.exit_on_downgrade:
            later = signals[(signals["code"] == sig.code) & (signals["broker"] == sig.broker)
                            & (signals["report_date"] > published)
                            & ((signals["action"] == "downgrade") | (signals["rating_level"] < sig.rating_level))]
            if len(later):
                exit_ = min(exit_, int(sessions.searchsorted(later["report_date"].min(), side="right")))
        if exit_ > entry:
            rows.append((sig.code, sig.broker, float(sig.rating_level), entry, exit_))
    return pd.DataFrame(rows, columns=["code", "broker", "rating_level", "entry", "exit"])


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
