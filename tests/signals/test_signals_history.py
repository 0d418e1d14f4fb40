"""History: duplicates across files collapse; actions come from the broker's previous rating."""

from __future__ import annotations

import pandas as pd

from engine.signals.history import dedupe_signals, derive_actions
from engine.signals.schema import SIGNAL_COLUMNS, coerce_signals


def _row(**kw):
    base = {c: "" for c in SIGNAL_COLUMNS}
    base.update({"broker": "民生证券", "code": "300474.SZ", "kind": "rating", "rating_level": float("nan"),
                 "target_price": float("nan"), "price_at_report": float("nan"), "band_low": float("nan"),
                 "band_high": float("nan"), "date_inferred": False})
    base.update(kw)
    return base


def test_dedupe_same_broker_stock_date():
    df = coerce_signals(pd.DataFrame([
        _row(signal_id="a", source="f1", report_date="2024-03-01", kind="mention"),
        _row(signal_id="b", source="f2", report_date="2024-03-01", rating="推荐", rating_level=2, price_at_report=63.0),
        _row(signal_id="c", source="f3", report_date="2024-03-01", rating="推荐", rating_level=2, target_price=80.0),
        _row(signal_id="d", source="f4", report_date="2024-04-01", rating="推荐", rating_level=2),
        _row(signal_id="e", source="f5", report_date="2024-03-01", broker="上海证券", rating="买入", rating_level=2),
    ]))
    out = dedupe_signals(df)
    assert list(out["signal_id"]) == ["b", "d", "e"]
    kept = out.iloc[0]
    assert kept["price_at_report"] == 63.0 and kept["target_price"] == 80.0     # filled from the f3 copy


def test_derive_actions_from_previous_rating():
    df = coerce_signals(pd.DataFrame([
        _row(signal_id="1", report_date="2024-01-10", rating="谨慎推荐", rating_level=1),
        _row(signal_id="2", report_date="2024-02-10", rating="推荐", rating_level=2),
        _row(signal_id="3", report_date="2024-03-10", rating="推荐", rating_level=2),
        _row(signal_id="4", report_date="2024-04-10", rating="中性", rating_level=0),
        _row(signal_id="5", report_date="2024-05-10", rating="中性", rating_level=0, action="initiate"),  # stated
        _row(signal_id="6", report_date="2024-02-01", broker="其他证券", rating="买入"),
        _row(signal_id="7", report_date="2024-03-01", broker="其他证券", rating="买入"),       # unknown levels
        _row(signal_id="8", report_date="2024-03-05", code="06082.HK", kind="mention"),
    ]))
    out = derive_actions(df).set_index("signal_id")["action"]
    assert out.to_dict() == {"1": "", "2": "upgrade", "3": "reiterate", "4": "downgrade", "5": "initiate",
                             "6": "", "7": "reiterate", "8": ""}
    first = derive_actions(df, first_as_initiate=True).set_index("signal_id")["action"]
    assert first["1"] == "initiate" and first["6"] == "initiate" and first["8"] == ""
