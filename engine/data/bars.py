"""The normalised daily-bar frame every provider returns and the cache stores, and its validation.

Columns (:data:`BAR_COLUMNS`), one row per trading session, sorted by ``date``:

=============  ==============  ==============================================================================
column         dtype           meaning / unit
=============  ==============  ==============================================================================
``date``       datetime64[ns]  session date, exchange local, midnight, no time zone
``open``       float64         adjusted open (same adjustment basis as ``close``), instrument currency
``high``       float64         adjusted high
``low``        float64         adjusted low
``close``      float64         adjusted close: ratios of closes are total returns (dividends included).
                               The basis (qfq as of some date, hfq, yfinance auto-adjust) is irrelevant for
                               returns; only ratios are meaningful. Index points for indexes (not adjusted).
``volume``     float64         traded volume in **shares** (never lots of 100); NaN when unknown
``raw_close``  float64         actual traded close (不复权), NaN where unknown
``adj_factor`` float64         ``close / raw_close`` (NaN where ``raw_close`` is unknown); steps at ex-dates
``source``     str             short tag of where the row came from (``local:SZ300474.csv``, ``akshare``, …)
=============  ==============  ==============================================================================

Validation (:func:`validate_bars`) finds *invalid* rows (unsorted/duplicate dates, non-positive or missing prices,
high below max(open, close), low above min(open, close)); suspect-but-valid rows are found by
:mod:`engine.data.verify`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["BAR_COLUMNS", "PRICE_COLUMNS", "BarIssue", "BarsInvalidError", "empty_bars", "normalize_bars",
           "validate_bars", "check_bars"]

BAR_COLUMNS = ("date", "open", "high", "low", "close", "volume", "raw_close", "adj_factor", "source")
PRICE_COLUMNS = ("open", "high", "low", "close")
_FLOAT_COLUMNS = ("open", "high", "low", "close", "volume", "raw_close", "adj_factor")
# Relative tolerance of the high/low checks: rebasing multiplies O/H/L/C by one factor, which can move the last bit.
_REL_TOL = 1e-9


@dataclass(frozen=True)
class BarIssue:
    """One problem in a bar frame: ``date`` is None for frame-level problems (missing column, unsorted …)."""

    code: str
    date: pd.Timestamp | None
    rule: str
    detail: str

    def __str__(self) -> str:
        when = self.date.date().isoformat() if self.date is not None else "-"
        return f"{self.code} {when}: {self.rule}: {self.detail}"


class BarsInvalidError(ValueError):
    """A bar frame failed validation; ``issues`` lists every problem found (code, date, rule)."""

    def __init__(self, where: str, issues: list[BarIssue]):
        self.where = where
        self.issues = issues
        head = "; ".join(str(i) for i in issues[:5])
        more = f" (and {len(issues) - 5} more)" if len(issues) > 5 else ""
        super().__init__(f"invalid price data in {where}: {head}{more}")


def empty_bars() -> pd.DataFrame:
    """A zero-row frame with the :data:`BAR_COLUMNS` schema."""
    out = pd.DataFrame({c: pd.Series(dtype="float64") for c in _FLOAT_COLUMNS})
    out.insert(0, "date", pd.Series(dtype="datetime64[ns]"))
    out["source"] = pd.Series(dtype="str")
    return out[list(BAR_COLUMNS)]


def normalize_bars(df: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Coerce a frame with at least ``date, open, high, low, close`` to the :data:`BAR_COLUMNS` schema.

    Missing ``volume`` / ``raw_close`` / ``adj_factor`` become NaN; ``adj_factor`` is derived as ``close/raw_close``
    when absent; ``source`` is filled with ``source`` where missing. Rows are sorted by date; duplicates are *kept*
    (validation reports them). Dates lose their time zone and time of day.
    """
    missing = [c for c in ("date", *PRICE_COLUMNS) if c not in df.columns]
    if missing:
        raise KeyError(f"bar frame lacks column(s) {missing}; has {list(df.columns)}")
    out = pd.DataFrame(index=range(len(df)))
    dates = pd.to_datetime(pd.Series(df["date"]).reset_index(drop=True), errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    out["date"] = dates.dt.normalize().astype("datetime64[ns]")
    for col in _FLOAT_COLUMNS:
        if col in df.columns:
            out[col] = pd.to_numeric(pd.Series(df[col]).reset_index(drop=True), errors="coerce").astype("float64")
        else:
            out[col] = np.nan
    if "adj_factor" not in df.columns:
        out["adj_factor"] = out["close"] / out["raw_close"]
    if "source" in df.columns:
        src = pd.Series(df["source"]).reset_index(drop=True).astype("str")
        src = src.where(pd.Series(df["source"]).reset_index(drop=True).notna(), source or "")
    else:
        src = pd.Series([source or ""] * len(df), dtype="str")
    out["source"] = src.astype("str")
    out = out.sort_values("date", kind="stable").reset_index(drop=True)
    return out[list(BAR_COLUMNS)]


def validate_bars(df: pd.DataFrame, code: str = "?") -> list[BarIssue]:
    """All validation problems of a normalised bar frame (empty list = valid).

    Rules: schema has :data:`BAR_COLUMNS`; dates present, strictly increasing (sorted, unique); open/high/low/close
    finite and > 0; ``high >= max(open, close)`` and ``low <= min(open, close)`` (relative tolerance 1e-9);
    volume ≥ 0 where known; ``raw_close`` > 0 where known.
    """
    issues: list[BarIssue] = []
    missing = [c for c in BAR_COLUMNS if c not in df.columns]
    if missing:
        return [BarIssue(code, None, "schema", f"missing column(s) {missing}")]
    if len(df) == 0:
        return issues
    dates = pd.DatetimeIndex(df["date"])
    if dates.isna().any():
        issues.append(BarIssue(code, None, "date", f"{int(dates.isna().sum())} row(s) without a date"))
    else:
        dup = dates[dates.duplicated()]
        for d in dup.unique()[:20]:
            issues.append(BarIssue(code, d, "duplicate_date", "date appears more than once"))
        if not dates.is_monotonic_increasing:
            diffs = np.flatnonzero(np.diff(dates.asi8) < 0)
            issues.append(BarIssue(code, dates[diffs[0] + 1], "unsorted", "dates are not in increasing order"))
    o, h, l, c = (df[k].to_numpy(dtype=float) for k in PRICE_COLUMNS)
    prices = np.column_stack([o, h, l, c])
    bad_price = ~(np.isfinite(prices) & (prices > 0)).all(axis=1)
    with np.errstate(invalid="ignore"):
        top = np.maximum(o, c)
        bottom = np.minimum(o, c)
        bad_high = ~bad_price & (h < top * (1 - _REL_TOL))
        bad_low = ~bad_price & (l > bottom * (1 + _REL_TOL))
        vol = df["volume"].to_numpy(dtype=float)
        bad_vol = vol < 0
        raw = df["raw_close"].to_numpy(dtype=float)
        bad_raw = raw <= 0
    for mask, rule, fmt in (
        (bad_price, "price", lambda i: f"open/high/low/close must be finite and > 0, got {prices[i].tolist()}"),
        (bad_high, "high", lambda i: f"high {h[i]} < max(open {o[i]}, close {c[i]})"),
        (bad_low, "low", lambda i: f"low {l[i]} > min(open {o[i]}, close {c[i]})"),
        (bad_vol, "volume", lambda i: f"negative volume {vol[i]}"),
        (bad_raw, "raw_close", lambda i: f"raw_close must be > 0, got {raw[i]}"),
    ):
        for i in np.flatnonzero(mask)[:50]:
            issues.append(BarIssue(code, pd.Timestamp(df["date"].iloc[i]), rule, fmt(i)))
    return issues


def check_bars(df: pd.DataFrame, code: str, where: str) -> pd.DataFrame:
    """Return ``df`` unchanged when valid, else raise :class:`BarsInvalidError` naming ``where`` and every issue."""
    issues = validate_bars(df, code)
    if issues:
        raise BarsInvalidError(where, issues)
    return df
