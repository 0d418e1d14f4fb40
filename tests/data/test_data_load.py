"""load_panel / panel_from_long against plain pandas references."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from engine.data.cache import PriceCache
from engine.data.chain import ChainSettings, ProviderChain
from engine.data.load import MissingDataError, load_panel, panel_from_long
from tests.data.fakes import ScriptedProvider, bars


def _cache_with(tmp_path, frames: dict[str, pd.DataFrame]) -> PriceCache:
    c = PriceCache(tmp_path)
    for code, df in frames.items():
        c.write(code, df, covered=[(df["date"].iloc[0], df["date"].iloc[-1])], source="local")
    return c


def test_load_panel_aligns_like_pandas_reference(tmp_path):
    a = bars(["2024-03-28", "2024-03-29", "2024-04-01", "2024-04-03"], [10.0, 10.5, 10.2, 10.8], volume=[5, 0, 7, 9])
    h = bars(["2024-03-28", "2024-04-02", "2024-04-03", "2024-04-05"], [300.0, 310.0, 305.0, 320.0])
    hsi = bars(["2024-03-28", "2024-04-02", "2024-04-03", "2024-04-05"], [16500.0, 16600.0, 16700.0, 16800.0])
    cache = _cache_with(tmp_path, {"300474.SZ": a, "00700.HK": h, "HSI": hsi})
    panel = load_panel(["sz300474", "0700.HK", "^HSI"], "2024-03-28", "2024-04-05", offline=True, cache=cache)
    assert list(panel.codes) == ["300474.SZ", "00700.HK", "HSI"]
    # reference: plain pandas outer join on the A+H calendar (XSHG ∪ XHKG sessions of those days)
    # (03-29 and 04-01 are HK holidays, 04-04 is closed in both, 04-05 is a Shanghai holiday)
    ref_sessions = pd.to_datetime(["2024-03-28", "2024-03-29", "2024-04-01", "2024-04-02", "2024-04-03",
                                   "2024-04-05"])
    assert list(pd.DatetimeIndex(panel.sessions)) == list(ref_sessions)
    ref = pd.concat({"300474.SZ": a.set_index("date")["close"], "00700.HK": h.set_index("date")["close"],
                     "HSI": hsi.set_index("date")["close"]}, axis=1, sort=True).reindex(ref_sessions)
    np.testing.assert_array_equal(panel.close, ref.to_numpy())
    vol_ref = a.set_index("date")["volume"].reindex(ref_sessions).to_numpy()
    np.testing.assert_array_equal(panel.volume[:, 0], vol_ref)
    # tradable: a bar with volume > 0; zero volume (03-29) and no bar are not; an index never is
    assert panel.tradable[:, 0].tolist() == [True, False, True, False, True, False]
    assert panel.tradable[:, 1].tolist() == [True, False, False, True, True, True]
    assert not panel.tradable[:, 2].any() and np.isfinite(panel.close[:, 2]).sum() == 4
    assert panel.markets.tolist() == ["A", "HK", "HK"] and panel.missing == ()


def test_load_panel_single_market_calendar_and_missing(tmp_path):
    a = bars(["2024-04-01", "2024-04-02"], [10.0, 10.5])
    cache = _cache_with(tmp_path, {"300474.SZ": a})
    with pytest.warns(UserWarning, match=r"600519.SH 2024-04-01..2024-04-03 \(not cached\)"):
        panel = load_panel(["300474", "600519.SS"], "2024-04-01", "2024-04-03", offline=True, cache=cache)
    assert panel.shape == (3, 2) and np.isnan(panel.close[:, 1]).all()
    assert [str(m) for m in panel.missing] == ["300474.SZ 2024-04-03..2024-04-03 (outside the cached range)",
                                               "600519.SH 2024-04-01..2024-04-03 (not cached)"]
    with pytest.raises(MissingDataError, match="600519.SH"):
        load_panel(["300474", "600519.SS"], "2024-04-01", "2024-04-03", offline=True, cache=cache,
                   on_missing="raise")


def test_load_panel_fetches_through_chain_then_works_offline(tmp_path):
    prov = ScriptedProvider("akshare", [bars(["2024-04-01", "2024-04-02", "2024-04-03"], [10.0, 10.5, 10.4])])
    chain = ProviderChain([prov], ChainSettings(timeout=0))
    p1 = load_panel(["300474"], "2024-04-01", "2024-04-03", providers=chain, cache=tmp_path, on_missing="raise")
    p2 = load_panel(["300474"], "2024-04-01", "2024-04-03", offline=True, cache=tmp_path, on_missing="raise")
    np.testing.assert_array_equal(p1.close, p2.close)
    assert len(prov.calls) == 1


def test_load_panel_past_calendar_end_uses_data_dates(tmp_path):
    a = bars(["2026-12-30", "2026-12-31", "2027-01-04"], [10.0, 10.5, 10.4])
    cache = _cache_with(tmp_path, {"300474.SZ": a})
    panel = load_panel(["300474"], "2026-12-30", "2027-01-04", offline=True, cache=cache, on_missing="raise")
    assert [str(pd.Timestamp(d).date()) for d in panel.sessions] == ["2026-12-30", "2026-12-31", "2027-01-04"]
    assert panel.close[:, 0].tolist() == [10.0, 10.5, 10.4]


def test_load_panel_rejects_bad_options(tmp_path):
    with pytest.raises(ValueError, match="on_missing"):
        load_panel(["300474"], "2024-01-01", "2024-01-02", offline=True, cache=tmp_path, on_missing="skip")
    with pytest.raises(ValueError, match="allowed: auto, XSHG"):
        load_panel(["300474"], "2024-01-01", "2024-01-02", offline=True, cache=tmp_path, calendar="NYSE")


def _long_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    dates = pd.bdate_range("2024-01-02", periods=30)
    for code in ("600519", "000001", "300474", "688981"):
        keep = rng.random(len(dates)) > 0.15  # suspensions
        for d in dates[keep]:
            c = float(rng.uniform(5, 50))
            rows.append((code, d, c, c * 1.02, c * 0.98, c, float(rng.integers(0, 5000))))
    return pd.DataFrame(rows, columns=["code", "date", "open", "high", "low", "close", "volume"])


def test_panel_from_long_matches_pandas_pivot(tmp_path):
    long = _long_frame()
    path = tmp_path / "market.parquet"
    long.to_parquet(path)
    panel = panel_from_long(path)
    ref_close = long.pivot(index="date", columns="code", values="close")
    ref_vol = long.pivot(index="date", columns="code", values="volume") * 100  # lots → shares
    assert list(panel.codes) == ["000001.SZ", "300474.SZ", "600519.SH", "688981.SH"]
    assert list(pd.DatetimeIndex(panel.sessions)) == list(ref_close.index)
    np.testing.assert_array_equal(panel.close, ref_close[["000001", "300474", "600519", "688981"]].to_numpy())
    np.testing.assert_array_equal(panel.volume, ref_vol[["000001", "300474", "600519", "688981"]].to_numpy())
    np.testing.assert_array_equal(panel.tradable, np.isfinite(panel.close) & (np.nan_to_num(panel.volume) > 0))
    sub = panel_from_long(path, codes=["688981", "sh600519"], start="2024-01-05", end="2024-01-20")
    assert list(sub.codes) == ["688981.SH", "600519.SH"]
    ref_sub = ref_close.loc["2024-01-05":"2024-01-20", ["688981", "600519"]]
    ref_sub = ref_sub.dropna(how="all")
    np.testing.assert_array_equal(sub.close, ref_sub.to_numpy())
    from_frame = panel_from_long(long)
    np.testing.assert_array_equal(from_frame.close, panel.close)


def test_panel_from_long_on_xshg_calendar_keeps_empty_sessions(tmp_path):
    long = _long_frame()
    long = long[long["date"] != pd.Timestamp("2024-01-10")]  # a day nobody traded (in this sample)
    panel = panel_from_long(long, calendar="XSHG")
    i = list(pd.DatetimeIndex(panel.sessions)).index(pd.Timestamp("2024-01-10"))
    assert np.isnan(panel.close[i]).all() and not panel.tradable[i].any()


def test_load_panel_on_real_shared_prices(shared, tmp_path):
    from engine.data.importer import import_paths

    cache = PriceCache(tmp_path)
    import_paths([shared / "data" / "prices"], cache)
    panel = load_panel(["300474.SZ", "000300.SH"], "2024-01-01", "2024-12-31", offline=True, cache=cache,
                       on_missing="ignore")
    raw = pd.read_csv(shared / "data" / "prices" / "SZ300474.csv", parse_dates=["date"]).set_index("date")
    raw.index = raw.index.astype("datetime64[ns]")
    ref = raw["close"].loc["2024-01-01":"2024-12-31"]
    got = panel.frame("close")["300474.SZ"].dropna()
    pd.testing.assert_series_equal(got, ref, check_names=False, check_freq=False)
    assert len(panel.sessions) == 242  # XSHG sessions in 2024


def test_panel_subset_keeps_columns_in_given_order(tmp_path):
    panel = panel_from_long(_long_frame())
    sub = panel.subset(["688981.SH", "000001.SZ"])
    assert list(sub.codes) == ["688981.SH", "000001.SZ"] and list(sub.boards) == ["star", "main"]
    np.testing.assert_array_equal(sub.close[:, 0], panel.close[:, panel.column("688981.SH")])
    np.testing.assert_array_equal(sub.tradable[:, 1], panel.tradable[:, panel.column("000001.SZ")])
    with pytest.raises(KeyError, match="600000.SH is not in the panel"):
        panel.subset(["600000.SH"])


def test_load_panel_fields_and_order_hold_the_same_values(tmp_path):
    a = bars(["2024-04-01", "2024-04-02", "2024-04-03"], [10.0, 10.5, 10.2], volume=[5, 0, 7])
    b = bars(["2024-04-02", "2024-04-03"], [20.0, 21.0])
    cache = _cache_with(tmp_path, {"300474.SZ": a, "600519.SH": b})
    full = load_panel(["300474.SZ", "600519.SH"], "2024-04-01", "2024-04-03", offline=True, cache=cache,
                      on_missing="ignore")
    close_only = load_panel(["300474.SZ", "600519.SH"], "2024-04-01", "2024-04-03", offline=True, cache=cache,
                            fields=["close"], order="F", on_missing="ignore")
    np.testing.assert_array_equal(close_only.close, full.close)  # same NaN places, same values
    assert close_only.close.flags.f_contiguous and full.close.flags.c_contiguous
    assert close_only.fields == ("close",) and full.fields == ("open", "high", "low", "close", "raw_close", "volume")
    # fields not loaded: all-NaN, read-only, no memory of their own; nothing is tradable without volume
    assert np.isnan(close_only.open).all() and not close_only.open.flags.writeable
    assert close_only.open.strides == (0, 0) and not close_only.tradable.any()
    with pytest.raises(ValueError, match="needs the panel fields open, volume, but the panel was loaded with close"):
        close_only.require("close", "open", "volume", stage="the backtest")
    full.require(*full.fields)
    sub = close_only.subset(["600519.SH"])
    assert sub.fields == ("close",) and np.isnan(sub.volume).all() and sub.close[:, 0].tolist()[1:] == [20.0, 21.0]
    order_f = load_panel(["300474.SZ", "600519.SH"], "2024-04-01", "2024-04-03", offline=True, cache=cache,
                         order="F", on_missing="ignore")
    for name in order_f.fields:
        np.testing.assert_array_equal(getattr(order_f, name), getattr(full, name))
    np.testing.assert_array_equal(order_f.tradable, full.tradable)


@pytest.mark.parametrize("options, message", [({"fields": ["close", "adj"]}, "unknown 'adj'; allowed: open, high"),
                                              ({"fields": []}, "none given"),
                                              ({"order": "K"}, "order='K'; allowed: C, F")])
def test_load_panel_names_bad_fields_and_order(tmp_path, options, message):
    cache = _cache_with(tmp_path, {"300474.SZ": bars(["2024-04-01"], [10.0])})
    with pytest.raises(ValueError, match=message):
        load_panel(["300474.SZ"], "2024-04-01", "2024-04-01", offline=True, cache=cache, **options)
