"""Eastmoney (raw JSON with analyst, targets and the broker's own word), Sina and ETNet conversions with fakes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.signals.feeds import EastmoneyFeed, EtnetFeed, FeedFormatError, SinaFeed
from engine.signals.feeds.eastmoney import EM_AKSHARE_COLUMNS
from tests.signals.feeds.fakes import em_page, etnet_overview, sina_detail


def test_eastmoney_reads_every_page_and_keeps_what_akshare_drops():
    pages = []

    def get_page(symbol: str, page: int) -> dict:
        pages.append(page)
        return em_page(symbol, page, total=2)

    feed = EastmoneyFeed(get_page=get_page)
    frame = feed.convert(feed.fetch("600519"), "600519")
    assert pages == [1, 2] and len(frame) == 4
    ms = frame[frame["broker"] == "民生证券"].sort_values("report_date").iloc[0]
    assert ms["rating"] == "推荐"  # the broker's own word (sRatingName), not East Money's 买入
    assert ms["band_low"] == 0.15 and ms["analysts"] == "张三;李四"
    assert (ms["target_low"], ms["target_high"], ms["target_price"]) == (1900.0, 2100.0, 2000.0)
    assert ms["industry"] == "酿酒行业" and ms["report_date"] == pd.Timestamp("2025-01-10")
    other = frame[frame["broker"] == "甲证券"].iloc[0]
    assert other["rating"] == "增持" and np.isnan(other["target_price"])  # no own word: East Money's


def test_eastmoney_accepts_akshare_frames_and_names_a_changed_key():
    frame = pd.DataFrame([[1, "600519", "贵州茅台", "报告", "买入", "甲证券", 3, "酿酒行业",
                           pd.Timestamp("2025-01-10").date(), "http://x"]], columns=EM_AKSHARE_COLUMNS)
    out = EastmoneyFeed().convert(frame, "600519")
    assert out.loc[0, "rating"] == "买入" and out.loc[0, "code"] == "600519.SH"
    broken = [{k: v for k, v in em_page("600519", 1)["data"][0].items() if k != "orgSName"}]
    with pytest.raises(FeedFormatError, match="orgSName"):
        EastmoneyFeed().convert(broken, "600519")
    with pytest.raises(FeedFormatError, match="TotalPage"):
        EastmoneyFeed(get_page=lambda s, p: {"result": None}).fetch("600519")


def test_sina_detail():
    frame = SinaFeed(fetch_symbol=sina_detail).convert(sina_detail("600519"), "600519")
    assert len(frame) == 2
    ms = frame[frame["broker"] == "民生证券"].iloc[0]
    assert (ms["rating"], ms["target_price"], ms["analysts"]) == ("推荐", 2100.0, "张三;李四")
    with pytest.raises(FeedFormatError, match="评级机构"):
        SinaFeed().convert(sina_detail("600519").drop(columns="评级机构"), "600519")


def test_etnet_snapshot_one_rating_per_broker_and_day():
    frame = EtnetFeed(fetch_symbol=etnet_overview).convert(etnet_overview("00700"), "00700")
    assert len(frame) == 2 and set(frame["code"]) == {"00700.HK"}
    pa = frame[frame["broker"] == "平安证券(香港)"].iloc[0]
    assert (pa["rating"], pa["target_price"], pa["currency"]) == ("买入", 520.0, "HKD")
    assert pa["report_date"] == pd.Timestamp("2025-03-20")
    with pytest.raises(FeedFormatError, match="证券商"):
        EtnetFeed().convert(etnet_overview("00700").rename(columns={"证券商": "券商"}), "00700")
