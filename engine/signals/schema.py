"""The normalised signals table: one row per (broker, stock, report date) recommendation or mention.

Every source (parsed reports, ratings CSV, akshare endpoints) produces exactly these columns, in this order.
Units and conventions:

- ``report_date``: publication date (exchange-local calendar date, ``datetime64[ns]`` at midnight). When the report
  prints none, it is inferred from the quoted-price date (the next session) and ``date_inferred`` is ``True``.
- ``price_at_report`` / ``target_price``: traded (unadjusted) prices in ``currency`` (CNY or HKD); ``price_date``
  is the close date the quoted price refers to.
- ``band_low`` / ``band_high``: the rating's promised excess return vs ``benchmark`` over ``horizon_months``, as
  *fractions* (0.15 = 15 %); NaN for an open end. ``horizon_months`` may be a range written ``"6-12"``; numeric
  single horizons are written as e.g. ``"12"`` (a string, so a range survives CSV round-trips).
- ``rating_level``: +2 (top bullish) … −2 (most bearish) by position in the broker's scale; NaN when unrated.
- ``kind``: ``rating`` (a rated stock), ``mention`` (named as worth watching, no own rating), ``industry``
  (the report's industry rating itself is carried in ``industry_rating`` on every row, not as a row).
- ``action``: ``initiate`` / ``reiterate`` / ``upgrade`` / ``downgrade`` / empty when unknown.

Columns added for real reports (optional in input files: :func:`coerce_signals` fills them with their empty value
when a table from an older version lacks them; the core columns above are always required):

- ``broker_group``: the entity the broker belongs to today, linked by date (国泰君安 and 海通 → 国泰海通 from the
  merger on; 安信 → 国投; 国联 + 民生 → 国联民生); equal to ``broker`` when nothing was renamed or merged.
- ``language``: ``zh`` or ``en`` (the report's language); empty for structured sources.
- ``risk_suffix``: a risk grade printed after the rating word (``买入-A`` → rating ``买入``, suffix ``A``).
- ``previous_rating``: the rating before this one, only when the source prints it.
- ``target_low`` / ``target_high``: a target range's ends in ``currency`` (both equal ``target_price`` for a single
  target); ``target_price`` is the single target or the midpoint of a range.
- ``target_horizon_months``: the target's own horizon when printed (``（6个月）``, "12m Price Target"), NaN otherwise.
- ``industry_action``: the industry rating's action (same vocabulary as ``action``).
- ``benchmark_promised``: the benchmark as the broker's definition states it (``沪深300``, ``恒生指数``,
  ``行业指数``, ``coverage universe``, ``absolute``), while ``benchmark`` is the canonical code it is scored
  against (``000300.SH``, ``HSI``; empty when we hold no such index).
- ``scale_type``: ``relative`` (excess vs an index), ``absolute`` (upside to target vs current price),
  ``coverage`` (vs the broker's coverage universe or an industry index), or empty when unknown.
- ``scale_source``: where the band came from: ``report`` (this report's own 评级说明), ``registry:<file>``, or empty.
- ``confidence``: the parser's certainty that the row is right, 0..1 (1.0 for structured sources).
- ``evidence``: a short verbatim snippet (≤ 120 characters) where the rating was read.
- ``provenance``: JSON object ``{field: {"page": int|null, "offset": int|null, "snippet": str}}`` naming where each
  field of the row was read (page 1-based for PDFs, character offset for text); an optional ``"note"`` says why a
  field was left empty where it was printed but could not be read with certainty (e.g. a run-together price cell).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SIGNAL_COLUMNS", "REQUIRED_SIGNAL_COLUMNS", "SIGNAL_DTYPES", "empty_signals", "coerce_signals",
           "empty_value", "complete_row"]

SIGNAL_DTYPES: dict[str, str] = {
    "signal_id": "str",
    "source": "str",
    "broker": "str",
    "report_date": "datetime64[ns]",
    "date_inferred": "bool",
    "report_type": "str",
    "industry": "str",
    "industry_rating": "str",
    "code": "str",
    "name": "str",
    "market": "str",
    "kind": "str",
    "rating": "str",
    "rating_level": "float64",
    "action": "str",
    "target_price": "float64",
    "price_at_report": "float64",
    "price_date": "datetime64[ns]",
    "currency": "str",
    "horizon_months": "str",
    "benchmark": "str",
    "band_low": "float64",
    "band_high": "float64",
    "analysts": "str",
    # --- optional columns (filled with their empty value when an input table lacks them) ---
    "broker_group": "str",
    "language": "str",
    "risk_suffix": "str",
    "previous_rating": "str",
    "target_low": "float64",
    "target_high": "float64",
    "target_horizon_months": "float64",
    "industry_action": "str",
    "benchmark_promised": "str",
    "scale_type": "str",
    "scale_source": "str",
    "confidence": "float64",
    "evidence": "str",
    "provenance": "str",
}
SIGNAL_COLUMNS: list[str] = list(SIGNAL_DTYPES)
#: Columns an input table must carry; the others are filled with their empty value by :func:`coerce_signals`.
REQUIRED_SIGNAL_COLUMNS: list[str] = SIGNAL_COLUMNS[:SIGNAL_COLUMNS.index("analysts") + 1]


def empty_signals() -> pd.DataFrame:
    """An empty signals table with the documented columns and dtypes."""
    return coerce_signals(pd.DataFrame(columns=SIGNAL_COLUMNS))


def coerce_signals(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly :data:`SIGNAL_COLUMNS` in order and their dtypes.

    Missing required columns (:data:`REQUIRED_SIGNAL_COLUMNS`) raise ``ValueError`` naming them; missing optional
    columns are added empty. String columns use ``""`` for missing values, date columns ``NaT``, numeric ``NaN``.
    """
    missing = [c for c in REQUIRED_SIGNAL_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"signals table is missing columns: {', '.join(missing)}")
    out = df.reindex(columns=SIGNAL_COLUMNS).copy()
    for col, dtype in SIGNAL_DTYPES.items():
        if _has_dtype(out[col], dtype):
            if dtype == "str" and out[col].hasnans:
                out[col] = out[col].fillna("")
            continue  # already right: a table coerced before costs (almost) nothing
        if dtype == "str":
            out[col] = out[col].astype(object).where(out[col].notna(), "").astype(str)
        elif dtype == "bool":
            out[col] = out[col].map(lambda v: str(v).strip().lower() in ("true", "1", "yes")
                                    if not isinstance(v, bool) else v).astype(bool)
        elif dtype.startswith("datetime"):
            out[col] = pd.to_datetime(out[col], errors="coerce").astype("datetime64[ns]")
        else:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(dtype)
    return out.reset_index(drop=True)


def _has_dtype(col: pd.Series, dtype: str) -> bool:
    """Whether ``col`` already has the signals dtype ``dtype`` (pandas' ``str`` dtype for strings)."""
    if dtype == "str":
        return isinstance(col.dtype, pd.StringDtype) and col.dtype.na_value is np.nan  # "str", not "string"
    if dtype.startswith("datetime"):
        return col.dtype == np.dtype("datetime64[ns]")
    return col.dtype == np.dtype(dtype)


def empty_value(column: str):
    """The empty value of a signals column: ``""`` for strings, ``NaN`` for numbers, ``None`` for dates,
    ``False`` for booleans."""
    dtype = SIGNAL_DTYPES[column]
    if dtype == "str":
        return ""
    if dtype == "bool":
        return False
    if dtype.startswith("datetime"):
        return None
    return float("nan")


def complete_row(row: dict) -> dict:
    """``row`` with every :data:`SIGNAL_COLUMNS` key in order (missing ones set to :func:`empty_value`);
    keys that are not signals columns are dropped."""
    return {c: row[c] if c in row else empty_value(c) for c in SIGNAL_COLUMNS}
