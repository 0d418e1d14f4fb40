"""Target prices: did the stock reach the broker's target within the horizon, and how many days did it take?

Rules (one row per rated signal with a ``target_price``):

1. Price at the report: ``price_at_report`` (traded price, as printed) when given, else the traded close
   ``raw_close`` of the base session; without either the target cannot be judged (``target_status = "no price at
   report"``). ``target_ratio = target_price / price at the report`` (both in ``currency``).
2. Path: the stock's *adjusted* close relative to its base close (dividends included, a small bias in the stock's
   favour over a year), scanned by the kernel :func:`engine.kernels.broker_paths.target_reach_nb` from the session
   after the base to the horizon end: the target's own horizon (``target_horizon_months``) when printed, else the
   rating's (``horizon_scored_months`` of the scores, i.e. the long end of a range).
3. ``target_hit``: reached (≥ the ratio for a target above the price, ≤ for one below) — NA while the window is
   open and the target not reached yet; ``days_to_target``: calendar days from the base session to the first
   session at or beyond the target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.panel import Panel
from engine.kernels.broker_paths import target_reach_nb
from engine.kernels.forward_returns import last_bar_index_nb

__all__ = ["TARGET_COLUMNS", "target_outcomes"]

TARGET_COLUMNS = ["signal_id", "target_price", "price_ref", "target_ratio", "target_end_date", "target_hit",
                  "target_date", "days_to_target", "target_status"]


def target_outcomes(scores: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """:data:`TARGET_COLUMNS` for the rated rows of ``scores`` (one leg per signal) that carry a target price.

    ``scores`` is the scoring stage's table (needs ``signal_id, code, report_date, target_price, price_at_report,
    target_horizon_months, horizon_scored_months, base_date``); prices are read from ``panel``.
    """
    rows = scores[(scores["kind"] == "rating") & scores["target_price"].notna()
                  & (scores["target_price"] > 0)].drop_duplicates("signal_id", keep="last")
    if rows.empty:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    sessions = panel.sessions
    col_index = pd.Index(panel.codes.astype(str))
    asset = col_index.get_indexer(rows["code"].astype(str)).astype(np.int64)
    report = pd.to_datetime(rows["report_date"]).to_numpy(dtype="datetime64[ns]")
    base = (np.searchsorted(sessions, report, side="right") - 1).astype(np.int64)
    months = rows["target_horizon_months"].to_numpy(dtype=float)
    months = np.where(np.isfinite(months) & (months > 0), months,
                      rows["horizon_scored_months"].to_numpy(dtype=float)).astype(np.int64)
    end_dates = np.empty(len(rows), dtype="datetime64[ns]")
    report_ts = pd.to_datetime(rows["report_date"])
    for m in np.unique(months):
        sel = months == m
        end_dates[sel] = (report_ts[sel] + pd.DateOffset(months=int(m))).to_numpy(dtype="datetime64[ns]")
    end = (np.searchsorted(sessions, end_dates, side="right") - 1).astype(np.int64)
    end[end_dates > sessions[-1]] = len(sessions)  # horizon ends after the data: open unless reached
    safe = (asset >= 0) & (base >= 0)
    raw_base = np.full(len(rows), np.nan)
    raw_base[safe] = panel.raw_close[base[safe], asset[safe]]
    quoted = rows["price_at_report"].to_numpy(dtype=float)
    price_ref = np.where(np.isfinite(quoted) & (quoted > 0), quoted, raw_base)
    ratio = rows["target_price"].to_numpy(dtype=float) / price_ref
    close = panel.close if panel.close.flags.f_contiguous else np.asfortranarray(panel.close)
    reach, decided = target_reach_nb(close, last_bar_index_nb(close), asset, base, end, ratio)
    status = np.where(asset < 0, "no price data",
                      np.where(~np.isfinite(price_ref), "no price at report",
                               np.where(reach >= 0, "reached", np.where(decided, "not reached", "open"))))
    hit = pd.array(np.where(decided, reach >= 0, False), dtype="boolean")
    hit[~decided] = pd.NA
    reach_date = np.where(reach >= 0, sessions[np.maximum(reach, 0)], np.datetime64("NaT"))
    base_date = np.where(base >= 0, sessions[np.maximum(base, 0)], np.datetime64("NaT"))
    days = (reach_date - base_date) / np.timedelta64(1, "D")
    return pd.DataFrame({
        "signal_id": rows["signal_id"].to_numpy(), "target_price": rows["target_price"].to_numpy(dtype=float),
        "price_ref": price_ref, "target_ratio": ratio, "target_end_date": end_dates, "target_hit": hit,
        "target_date": reach_date.astype("datetime64[ns]"), "days_to_target": days.astype(float),
        "target_status": status.astype(object),
    }, columns=TARGET_COLUMNS)
