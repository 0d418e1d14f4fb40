"""The signals history in the store: deduplication by (broker, code, report_date, kind), filters, sources."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.store import open_store
from engine.signals.schema import REQUIRED_SIGNAL_COLUMNS, SIGNAL_COLUMNS


def _signals(rows: list[dict]) -> pd.DataFrame:
    base = {c: "" for c in REQUIRED_SIGNAL_COLUMNS}
    base.update(date_inferred=False, kind="rating", rating_level=np.nan)
    return pd.DataFrame([{**base, **r} for r in rows])


ROWS = [
    dict(broker="中信证券", code="600519.SH", report_date="2024-01-02", rating="买入", rating_level=2.0),
    dict(broker="中信证券", code="600519.SH", report_date="2024-01-02", rating="增持", rating_level=1.0),  # dup key
    dict(broker="中信证券", code="600519.SH", report_date="2024-01-02", kind="mention"),  # other kind: new
    dict(broker="华泰证券", code="00700.HK", report_date="2024-03-05", rating="增持", rating_level=1.0),
    dict(broker="华泰证券", code="00700.HK", report_date=None, rating="中性", rating_level=0.0),  # no date
]


def test_add_signals_counts_new_rows_and_keeps_the_first_of_each_key(tmp_path):
    frame = _signals(ROWS)
    with open_store(tmp_path) as store:
        assert store.add_signals(frame, source="ingest") == 4  # row 2 repeats row 1's key within the frame
        assert store.add_signals(frame, source="akshare") == 0  # all known, a NaT date included
        more = _signals([dict(broker="华泰证券", code="00700.HK", report_date="2024-03-06", rating="买入")])
        assert store.add_signals(more, source="akshare") == 1
        hist = store.signals()
    # independent reference: pandas drop_duplicates on the key over everything added, keeping the first
    ref = pd.concat([frame.assign(history_source="ingest"), frame.assign(history_source="akshare"),
                     more.assign(history_source="akshare")], ignore_index=True)
    ref["report_date"] = pd.to_datetime(ref["report_date"])
    ref = ref.drop_duplicates(["broker", "code", "report_date", "kind"], keep="first")
    assert len(hist) == len(ref) == 5
    assert list(hist.columns) == [*SIGNAL_COLUMNS, "history_source", "ingested_at"]
    key = ["broker", "code", "report_date", "kind"]
    got = hist.sort_values(key).reset_index(drop=True)
    want = ref.sort_values(key).reset_index(drop=True)
    assert got["rating"].tolist() == want["rating"].tolist()  # 买入 (first) kept, not 增持
    assert got["history_source"].tolist() == want["history_source"].tolist()
    assert got["rating_level"].equals(want["rating_level"].astype(float))
    assert hist["report_date"].dtype == "datetime64[ns]" and hist["ingested_at"].notna().all()


def test_signals_filters(tmp_path):
    with open_store(tmp_path) as store:
        store.add_signals(_signals(ROWS), source="ingest")
        store.add_signals(_signals([dict(broker="国泰海通", code="300474.SZ", report_date="2025-06-30")]),
                          source="akshare")
        assert set(store.signals(brokers=["华泰证券"])["code"]) == {"00700.HK"}
        assert len(store.signals(codes=["600519.SH"], kinds=["rating"])) == 1
        dated = store.signals(start="2024-01-03", end="2024-12-31")
        assert dated["report_date"].tolist() == [pd.Timestamp("2024-03-05")]  # NaT dates fall outside a range
        assert store.signals(sources=["akshare"])["broker"].tolist() == ["国泰海通"]
        assert store.signals(brokers=[]).empty
        with pytest.raises(TypeError):
            store.signals(broker=["x"])  # unknown filter name


def test_add_signals_rejects_a_table_without_required_columns(tmp_path):
    with open_store(tmp_path) as store, pytest.raises(ValueError, match="missing columns"):
        store.add_signals(pd.DataFrame({"broker": ["x"]}), source="ingest")
    with open_store(tmp_path) as store, pytest.raises(ValueError, match="source"):
        store.add_signals(_signals(ROWS[:1]), source="")
