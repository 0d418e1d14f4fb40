"""Property test: random and mutated report text never makes the parser raise."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.signals.extract import extract_report
from engine.signals.scales import load_registry
from engine.signals.schema import SIGNAL_COLUMNS
from engine.signals.security_master import load_security_master
from tests.signals.conftest import make_report

REGISTRY = load_registry()
MASTER = load_security_master()
BASE = make_report()
TOKENS = ["推荐", "买入", "评级", "\t", "\n", "（", "）", "%", "-", "2024年5月9日", "688012.SH", "6082. HK", "建议关注",
          "：", "、", "目标价", "现价", "收盘价", "行业评级", "12 个月", "±", "【", "】", "##", "维持评级", "首次覆盖",
          "民生证券", "恒生指数", "/", "股价为", "2099年13月40日", "相关研究", "免责声明"]


def _check(text: str) -> None:
    rep = extract_report(text, "fuzz", REGISTRY, MASTER)
    for row in rep.rows:
        assert list(row) == SIGNAL_COLUMNS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), max_size=60))
def test_random_text_never_raises(parts):
    _check("".join(parts))


@st.composite
def mutated(draw):
    text = BASE
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "truncate", "swap"]))
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 200)))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + draw(st.text(max_size=20)) + text[i:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "truncate":
            text = text[:i]
        else:
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_report_never_raises(text):
    _check(text)


@pytest.mark.parametrize("text", ["", " ", "\n\n\t", "推荐", "评级\n", "建议关注", "建议关注：", "代码\t简称\n",
                                  "股价为2024年2月30日收盘价", "\x00" * 10])
def test_edge_texts(text):
    _check(text)
