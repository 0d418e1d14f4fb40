"""Security master: names file, user names files, akshare lists (faked) with their cache, unresolved names."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.signals.extract import extract_report
from engine.signals.scales import load_registry
from engine.signals.security_master import load_security_master, normalize_name


def test_project_names_file_resolves_seed_names():
    master = load_security_master()
    assert master.lookup("恒玄科技") == "688608.SH"
    assert master.lookup("璧仞科技") == master.lookup("壁仞科技") == "06082.HK"
    assert master.lookup("*ST慧辰") == master.lookup("慧辰") == "688500.SH"
    assert master.lookup("不存在的公司") is None


def test_normalize_name():
    assert normalize_name(" *ST 慧辰 ") == "慧辰" and normalize_name("【思特威】") == "思特威"
    assert normalize_name("ＴＣＬ科技") == "TCL科技"


def test_user_names_file_and_errors(tmp_path):
    good = tmp_path / "names.csv"
    good.write_text("code,name\n300999,新公司\n", encoding="utf-8")
    assert load_security_master([good]).lookup("新公司") == "300999.SZ"
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n300999,新公司\nXYZ,坏代码\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.csv:3: field code"):
        load_security_master([bad])


def test_online_lists_are_cached(tmp_path):
    calls = []

    def fake_a():
        calls.append("a")
        return pd.DataFrame({"code": ["600519", "000001"], "name": ["贵州茅台", "平安银行"]})   # stock_info_a_code_name

    def fake_hk():
        calls.append("hk")
        return pd.DataFrame({"序号": [1], "代码": ["00700"], "名称": ["腾讯控股"], "最新价": [400.0]})  # stock_hk_spot_em

    master = load_security_master(fetch_a=fake_a, fetch_hk=fake_hk)
    assert master.lookup("贵州茅台") == "600519.SH" and master.lookup("腾讯控股") == "00700.HK"

    def offline():
        raise ConnectionError("no network")

    again = load_security_master(fetch_a=offline, fetch_hk=offline)      # served from the cache
    assert again.lookup("平安银行") == "000001.SZ"
    assert calls == ["a", "hk"]


def test_unresolved_mention_kept_with_empty_code(make_text):
    text = make_text().replace("拓荆科技（688072.SH）、芯源微（688037.SH）", "【未知科技】、【芯源微】")
    rep = extract_report(text, "mem", load_registry(), load_security_master())
    unknown = [r for r in rep.rows if r["name"] == "未知科技"]
    assert len(unknown) == 1 and unknown[0]["code"] == "" and unknown[0]["kind"] == "mention"
    assert any("未知科技" in m.text and "not resolved" in m.text for m in rep.messages)
