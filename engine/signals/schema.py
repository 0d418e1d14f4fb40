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
"""

from __future__ import annotations

import pandas as pd

__all__ = ["SIGNAL_COLUMNS", "SIGNAL_DTYPES", "empty_signals", "coerce_signals"]

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
}
SIGNAL_COLUMNS: list[str] = list(SIGNAL_DTYPES)


def empty_signals() -> pd.DataFrame:
    """An empty signals table with the documented columns and dtypes."""
    return coerce_signals(pd.DataFrame(columns=SIGNAL_COLUMNS))


def coerce_signals(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly :data:`SIGNAL_COLUMNS` in order and their dtypes.

    Missing columns raise ``ValueError`` naming them (a signals file from elsewhere must carry all columns);
    string columns use ``""`` for missing values, date columns ``NaT``, numeric ``NaN``.
    """
    missing = [c for c in SIGNAL_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"signals table is missing columns: {', '.join(missing)}")
    out = df[SIGNAL_COLUMNS].copy()
    for col, dtype in SIGNAL_DTYPES.items():
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
