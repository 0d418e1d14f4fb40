"""Signal history: one signal per (broker, stock, report date), and actions derived from the broker's previous rating.

1. :func:`dedupe_signals` — rows with the same ``(broker, code, report_date)`` (``name`` when the code is empty) from
   several files or sources become one: a ``rating`` row beats a ``mention``, then the copy with more filled scale
   and price fields (a copy judged by a known scale beats one without), then input order; the kept row's empty
   price / name / analyst fields are filled from the other copies.
2. :func:`derive_actions` — for ``kind == "rating"`` rows whose report does not state the action, compare with the
   same broker's previous rating of the same stock (strictly earlier ``report_date``):
   higher ``rating_level`` → ``upgrade``, lower → ``downgrade``, same → ``reiterate``; when levels are unknown the
   rating words decide (same word → ``reiterate``). Without a previous rating the action stays empty, unless
   ``first_as_initiate=True`` (use it only when the input holds the broker's full history, otherwise coverage that
   started before the data would be counted as initiations).
"""

from __future__ import annotations

import pandas as pd

from engine.signals.schema import SIGNAL_COLUMNS, coerce_signals

__all__ = ["dedupe_signals", "derive_actions"]

_FILLABLE = ["target_price", "price_at_report", "price_date", "analysts", "industry", "industry_rating", "name",
             "action", "currency"]


def dedupe_signals(signals: pd.DataFrame) -> pd.DataFrame:
    """Collapse duplicates of (broker, code-or-name, report_date) (see module docstring)."""
    df = coerce_signals(signals)
    if df.empty:
        return df
    key_stock = df["code"].where(df["code"] != "", "name:" + df["name"])
    key = df["broker"] + "|" + key_stock + "|" + df["report_date"].astype(str)
    info = (df[["rating_level", "band_low", "band_high", "target_price", "price_at_report"]].notna().sum(axis=1)
            + (df["horizon_months"] != "").astype(int))
    df = df.assign(_key=key.values, _rank=(df["kind"] != "rating").astype(int).values, _info=-info.values,
                   _order=range(len(df)))
    dup = df["_key"].duplicated(keep=False)
    if not dup.any():
        return coerce_signals(df[SIGNAL_COLUMNS])
    groups = df[dup].sort_values(["_key", "_rank", "_info", "_order"], kind="stable")
    best = groups.groupby("_key", sort=False).head(1).set_index("_key")
    for col in _FILLABLE:
        values = groups[col]
        if values.dtype == object or str(values.dtype) in ("str", "string"):
            values = values.where(values != "")
        filled = values.groupby(groups["_key"], sort=False).first()     # first non-missing, best copy first
        current = best[col]
        empty = current.isna() | (current == "") if current.dtype == object or str(current.dtype) in ("str", "string") \
            else current.isna()
        best.loc[empty, col] = filled.reindex(best.index)[empty]
    out = pd.concat([df[~dup], best.reset_index()], ignore_index=True).sort_values("_order", kind="stable")
    return coerce_signals(out[SIGNAL_COLUMNS])


def derive_actions(signals: pd.DataFrame, first_as_initiate: bool = False) -> pd.DataFrame:
    """Fill empty ``action`` of rating rows from the previous rating (see module docstring)."""
    df = coerce_signals(signals)
    if df.empty:
        return df
    mask = (df["kind"] == "rating") & (df["code"] != "") & (df["rating"] != "") & df["report_date"].notna()
    ratings = df[mask].sort_values(["broker", "code", "report_date"], kind="stable")
    grouped = ratings.groupby(["broker", "code"], sort=False)
    prev_level = grouped["rating_level"].shift(1)
    prev_rating = grouped["rating"].shift(1)
    prev_date = grouped["report_date"].shift(1)
    has_prev = prev_rating.notna() & (prev_date != ratings["report_date"])
    no_prev = prev_rating.isna()
    level = ratings["rating_level"]
    both = has_prev & level.notna() & prev_level.notna()
    derived = pd.Series("", index=ratings.index, dtype=object)
    derived[both & (level > prev_level)] = "upgrade"
    derived[both & (level < prev_level)] = "downgrade"
    derived[both & (level == prev_level)] = "reiterate"
    derived[has_prev & ~both & (ratings["rating"] == prev_rating)] = "reiterate"
    if first_as_initiate:
        derived[no_prev] = "initiate"
    empty = ratings["action"] == ""
    action = df["action"].astype(object).copy()
    action[derived.index[empty]] = derived[empty].values
    df["action"] = action
    return coerce_signals(df)
