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
    df = df.sort_values(["_key", "_rank", "_info", "_order"], kind="stable")
    rows = []
    for _, group in df.groupby("_key", sort=False):
        first = group.iloc[0].copy()
        if len(group) > 1:
            for col in _FILLABLE:
                value = first[col]
                if value == "" or (not isinstance(value, str) and pd.isna(value)):
                    others = group[col].iloc[1:]
                    filled = others[(others != "") & others.notna()] if others.dtype == object else others.dropna()
                    if len(filled):
                        first[col] = filled.iloc[0]
        rows.append(first)
    out = pd.DataFrame(rows).sort_values("_order", kind="stable")
    return coerce_signals(out[SIGNAL_COLUMNS])


def derive_actions(signals: pd.DataFrame, first_as_initiate: bool = False) -> pd.DataFrame:
    """Fill empty ``action`` of rating rows from the previous rating (see module docstring)."""
    df = coerce_signals(signals)
    if df.empty:
        return df
    ratings = df[(df["kind"] == "rating") & (df["code"] != "") & (df["rating"] != "") & df["report_date"].notna()]
    ratings = ratings.sort_values(["broker", "code", "report_date"], kind="stable")
    action = df["action"].copy()
    for _, group in ratings.groupby(["broker", "code"], sort=False):
        prev_level, prev_rating, prev_date = None, None, None
        for idx, row in group.iterrows():
            if action[idx] == "":
                if prev_rating is None or prev_date == row["report_date"]:
                    if first_as_initiate and prev_rating is None:
                        action[idx] = "initiate"
                else:
                    level = row["rating_level"]
                    if pd.notna(level) and prev_level is not None and pd.notna(prev_level):
                        action[idx] = "upgrade" if level > prev_level else "downgrade" if level < prev_level \
                            else "reiterate"
                    elif row["rating"] == prev_rating:
                        action[idx] = "reiterate"
            prev_level, prev_rating, prev_date = row["rating_level"], row["rating"], row["report_date"]
    df["action"] = action
    return df
