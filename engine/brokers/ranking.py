"""The ranking rule of the league table: rank by the lower end of the 95 % Wilson interval of the hit rate.

A broker's hit rate over *n* judged ratings with *k* hits is ``p = k / n``; its rank score is the Wilson lower bound

    L(k, n) = ( p + z²/2n − z·sqrt( p(1−p)/n + z²/4n² ) ) / ( 1 + z²/n ),   z = 1.959964 (95 %)

(:func:`engine.score.stats.wilson_interval`). L grows with p and with n: a broker needs both a high hit rate *and*
enough ratings to rank high, so 3 lucky hits out of 3 (L = 0.44) rank below 210 hits out of 300 (L = 0.65).

Two bases, never mixed in one ranking (a band hit is harder than a direction hit, so the rates are not comparable):

1. ``own band`` — brokers with a rating scale (at least one complete window judged against a band): ``k, n`` =
   band hits and complete rated windows with a band (``n_hits``, ``n_hit_eligible``). Ranked 1, 2, … among
   themselves.
2. ``direction & excess (no scale)`` — brokers without a scale: ``k, n`` = direction hits and complete rated windows
   with a direction (bullish ratings beating the benchmark, bearish lagging it). Ranked 1, 2, … among themselves.

Ties on L are broken by the excess-return t statistic (higher first), then by n. Rows without any judged complete
window are not ranked (``rank`` empty, ``rank_basis`` "too few complete windows").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.score.stats import wilson_interval

__all__ = ["BASIS_BAND", "BASIS_DIRECTION", "BASIS_NONE", "rank_league", "wilson_lower"]

BASIS_BAND = "own band"
BASIS_DIRECTION = "direction & excess (no scale)"
BASIS_NONE = "too few complete windows"


def wilson_lower(hits: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Wilson 95 % lower bound per row (fractions); NaN where ``trials == 0``."""
    return np.array([wilson_interval(int(k), int(n))[0] if n > 0 else np.nan for k, n in zip(hits, trials)],
                    dtype=float)


def rank_league(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``rank_basis``, ``rank_score`` (Wilson lower bound, fraction) and ``rank`` (1 = best within
    its basis; <NA> when unranked), sorted: band-judged rows by rank, then direction-only rows, then unranked.

    Needs ``n_hit_eligible, n_hits, n_direction, direction_hits, excess_t_stat``; each ``group_by`` value is ranked
    separately (brokers against brokers, analysts against analysts).
    """
    out = table.copy()
    band = out["n_hit_eligible"].to_numpy() > 0
    direction = ~band & (out["n_direction"].to_numpy() > 0)
    out["rank_basis"] = np.where(band, BASIS_BAND, np.where(direction, BASIS_DIRECTION, BASIS_NONE))
    score = np.full(len(out), np.nan)
    score[band] = wilson_lower(out["n_hits"].to_numpy()[band], out["n_hit_eligible"].to_numpy()[band])
    score[direction] = wilson_lower(out["direction_hits"].to_numpy()[direction],
                                    out["n_direction"].to_numpy()[direction])
    out["rank_score"] = score
    out["_basis_order"] = np.where(band, 0, np.where(direction, 1, 2))
    out["_t"] = out["excess_t_stat"].fillna(-np.inf)
    out["_n"] = np.where(band, out["n_hit_eligible"], out["n_direction"])
    out["_score"] = out["rank_score"].fillna(-np.inf)
    out = out.sort_values(["group_by", "_basis_order", "_score", "_t", "_n"],
                          ascending=[True, True, False, False, False], kind="stable")
    rank = out.groupby(["group_by", "_basis_order"], sort=False).cumcount() + 1
    out["rank"] = pd.array(rank.to_numpy(), dtype="Int64")
    out.loc[out["_basis_order"] == 2, "rank"] = pd.NA
    return out.drop(columns=["_basis_order", "_t", "_n", "_score"]).reset_index(drop=True)
