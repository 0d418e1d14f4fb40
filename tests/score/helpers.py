"""Small builders for scoring tests: signals rows with every schema column, panels from explicit arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.panel import Panel, panel_from_frames
from engine.signals.schema import SIGNAL_COLUMNS, coerce_signals

MINSHENG = dict(broker="民生证券", benchmark="000300.SH", horizon_months="12")


def make_signals(rows: list[dict]) -> pd.DataFrame:
    """A signals table from partial rows (missing columns empty), coerced to the schema."""
    defaults = dict(source="test", date_inferred=False, report_type="", industry="", industry_rating="", name="",
                    market="", kind="rating", rating="", rating_level=np.nan, action="", target_price=np.nan,
                    price_at_report=np.nan, price_date=pd.NaT, currency="", horizon_months="12", benchmark="",
                    band_low=np.nan, band_high=np.nan, analysts="")
    full = []
    for i, row in enumerate(rows):
        full.append({"signal_id": f"t{i}", **defaults, **row})
    return coerce_signals(pd.DataFrame(full).reindex(columns=SIGNAL_COLUMNS))


def make_panel(dates: list[str], closes: dict[str, list[float]]) -> Panel:
    """A panel of explicit closes (NaN = no bar) on the given sessions."""
    frames = {code: pd.DataFrame({"close": values}, index=pd.to_datetime(dates)) for code, values in closes.items()}
    return panel_from_frames(frames, sessions=pd.DatetimeIndex(pd.to_datetime(dates)))
