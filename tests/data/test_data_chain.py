"""The fallback chain: timeouts, retries with back-off, rate limits, permanent errors and the final error."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.data.chain import AllProvidersFailed, ChainSettings, ProviderChain, RateLimiter
from engine.data.providers import EmptyResult, NotSupported, SchemaChanged
from engine.data.providers.akshare import AkshareProvider
from engine.data.providers.yfinance import YfinanceProvider
from tests.data.fakes import FakeAkshare, FakeYfinance, ScriptedProvider, bars

START, END = dt.date(2024, 3, 1), dt.date(2024, 3, 12)
GOOD = bars(["2024-03-01", "2024-03-04"], [10.0, 10.5], source="x")


def chain(providers, **kw):
    sleeps: list[float] = []
    settings = ChainSettings(timeout=kw.pop("timeout", 2.0), retries=kw.pop("retries", 2),
                             backoff=kw.pop("backoff", 1.0), max_backoff=kw.pop("max_backoff", 30.0),
                             min_interval=kw.pop("min_interval", {}))
    c = ProviderChain(providers, settings, sleep=sleeps.append)
    return c, sleeps


def test_fail_then_succeed_retries_with_exponential_backoff():
    p = ScriptedProvider("akshare", [ConnectionError("reset"), ConnectionError("reset"), GOOD])
    c, sleeps = chain([p], retries=3, backoff=1.5)
    df, name = c.fetch("300474.SZ", START, END)
    assert name == "akshare" and len(df) == 2 and len(p.calls) == 3
    assert sleeps == [1.5, 3.0]  # backoff * 2**k before retry k+1


def test_backoff_is_capped():
    p = ScriptedProvider("a", [ConnectionError("x")] * 5 + [GOOD])
    c, sleeps = chain([p], retries=5, backoff=1.0, max_backoff=3.0)
    c.fetch("300474.SZ", START, END)
    assert sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_timeout_then_fallback_to_next_provider():
    slow = ScriptedProvider("akshare", [("sleep", 1.0, GOOD)])
    fast = ScriptedProvider("yfinance", [GOOD])
    c, _ = chain([slow, fast], timeout=0.05, retries=1)
    df, name = c.fetch("300474.SZ", START, END)
    assert name == "yfinance"
    assert [a.provider for a in c.attempts] == ["akshare", "akshare", "yfinance"]
    assert "ProviderTimeout" in c.attempts[0].error and "0.05 s" in c.attempts[0].error
    c.close()


def test_permanent_errors_are_not_retried():
    schema = ScriptedProvider("akshare", [SchemaChanged("no column for close")])
    missing = ScriptedProvider("local", [NotSupported("no file")])
    ok = ScriptedProvider("yfinance", [GOOD])
    c, sleeps = chain([missing, schema, ok], retries=3)
    _, name = c.fetch("300474.SZ", START, END)
    assert name == "yfinance" and len(schema.calls) == 1 and len(missing.calls) == 1 and sleeps == []


def test_package_parse_errors_are_not_retried_but_network_errors_are():
    parse = ScriptedProvider("akshare", [TypeError("'NoneType' object is not subscriptable")])
    net = ScriptedProvider("yfinance", [OSError("Connection refused"), GOOD])
    c, _ = chain([parse, net], retries=2)
    _, name = c.fetch("300474.SZ", START, END)
    assert name == "yfinance" and len(parse.calls) == 1 and len(net.calls) == 2


def test_all_fail_error_names_providers_symbol_and_range():
    a = ScriptedProvider("akshare", [EmptyResult("akshare returned an empty frame")])
    y = ScriptedProvider("yfinance", [EmptyResult("yfinance returned only NaN prices for 300474.SZ")])
    c, sleeps = chain([a, y], retries=1)
    with pytest.raises(AllProvidersFailed) as info:
        c.fetch("300474.SZ", START, END)
    msg = str(info.value)
    assert "300474.SZ" in msg and "2024-03-01..2024-03-12" in msg
    assert "akshare (2 attempts)" in msg and "yfinance (2 attempts)" in msg and "only NaN" in msg
    assert len(sleeps) == 2


def test_invalid_provider_data_is_rejected_and_next_provider_used():
    broken = GOOD.copy()
    broken.loc[1, "high"] = 1.0  # high below close
    bad = ScriptedProvider("akshare", [broken])
    ok = ScriptedProvider("yfinance", [GOOD])
    c, _ = chain([bad, ok])
    _, name = c.fetch("300474.SZ", START, END)
    assert name == "yfinance" and "high" in c.attempts[0].error and len(bad.calls) == 1


def test_fallback_with_real_provider_classes_over_fakes():
    """akshare fails (empty), yfinance answers an all-NaN frame (silent failure), then a good akshare later."""
    ak_bad = AkshareProvider(module=FakeAkshare(empty=True))
    yf_nan = YfinanceProvider(module=FakeYfinance("nan"))
    c, _ = chain([ak_bad, yf_nan], retries=0)
    with pytest.raises(AllProvidersFailed, match=r"akshare .*empty.*yfinance .*only NaN"):
        c.fetch("600519.SH", START, END)
    ak_flaky = AkshareProvider(module=FakeAkshare(fail_times=1))
    c2, sleeps = chain([ak_flaky, YfinanceProvider(module=FakeYfinance())], retries=2)
    df, name = c2.fetch("600519.SH", START, END)
    assert name == "akshare" and len(df) == 8 and sleeps == [1.0]


def test_rate_limiter_enforces_min_interval_per_provider():
    now = [100.0]
    slept: list[float] = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    rl = RateLimiter({"akshare": 2.0}, clock=lambda: now[0], sleep=sleep)
    rl.wait("akshare")
    now[0] += 0.5
    rl.wait("akshare")  # 0.5 s after the first: must wait 1.5 s more
    rl.wait("yfinance")  # other providers are not limited
    rl.wait("yfinance")
    assert slept == [pytest.approx(1.5)]


def test_chain_rate_limit_between_symbols():
    p = ScriptedProvider("akshare", [GOOD])
    now = [0.0]
    slept: list[float] = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    c = ProviderChain([p], ChainSettings(timeout=0, min_interval={"akshare": 1.0}), sleep=sleep,
                      clock=lambda: now[0])
    for code in ("300474.SZ", "600519.SH", "000001.SZ"):
        c.fetch(code, START, END)
    assert slept == [1.0, 1.0]


def test_real_akshare_provider_timing_out_falls_back_to_yfinance():
    slow_ak = AkshareProvider(module=FakeAkshare(delay=5.0))  # answers, but too late
    # 1 s leaves the fake yfinance time to answer on a loaded machine (0.05 s failed under load 10)
    c, _ = chain([slow_ak, YfinanceProvider(module=FakeYfinance())], timeout=1.0, retries=0)
    df, name = c.fetch("600519.SH", START, END)
    assert name == "yfinance" and len(df) == 8
    assert "did not answer within 1 s" in c.attempts[0].error


def test_unreachable_provider_is_skipped_after_network_failures_on_two_symbols():
    """Connection refused (a host that resolves but does not answer) for two symbols in a row: skipped at once
    after that (no more retries or back-off), and the error says why."""
    refused = ScriptedProvider("akshare", [ConnectionError("Connection refused")])
    c, sleeps = chain([refused], retries=2)
    with pytest.raises(AllProvidersFailed):
        c.fetch("06082.HK", START, END)
    assert c.unreachable == {}  # one symbol could be a passing fault
    with pytest.raises(AllProvidersFailed):
        c.fetch("00992.HK", START, END)
    assert len(refused.calls) == 6 and set(c.unreachable) == {"akshare"}
    with pytest.raises(AllProvidersFailed, match="skipped: unreachable earlier in this run"):
        c.fetch("300474.SZ", START, END)
    assert len(refused.calls) == 6


def test_unresolvable_host_is_skipped_after_one_symbol():
    """An offline machine: akshare cannot resolve its host, yfinance answers empty with yfinance's DNS reason.
    After one symbol both are skipped at once (no more retries or back-off), and the error says why."""
    dns = ScriptedProvider("akshare", [ConnectionError("Max retries exceeded: NameResolutionError")])
    yf_dns = ScriptedProvider("yfinance", [EmptyResult("yfinance returned an empty frame for 6082.HK: "
                                                       "Could not resolve host: query2.finance.yahoo.com")])
    c, sleeps = chain([dns, yf_dns], retries=2)
    with pytest.raises(AllProvidersFailed):
        c.fetch("06082.HK", START, END)
    calls_before, sleeps_before = (len(dns.calls), len(yf_dns.calls)), len(sleeps)
    assert calls_before == (3, 3) and set(c.unreachable) == {"akshare", "yfinance"}
    with pytest.raises(AllProvidersFailed, match="skipped: unreachable earlier in this run"):
        c.fetch("300474.SZ", START, END)
    assert (len(dns.calls), len(yf_dns.calls)) == calls_before and len(sleeps) == sleeps_before


def test_data_errors_and_successes_do_not_mark_a_provider_unreachable():
    """Unknown symbols (empty answer without a network reason) never trip the breaker; a success resets it."""
    empty = ScriptedProvider("yfinance", [EmptyResult("yfinance returned an empty frame for 6082.HK")])
    c, _ = chain([empty], retries=0)
    for code in ("06082.HK", "00992.HK", "01810.HK"):
        with pytest.raises(AllProvidersFailed):
            c.fetch(code, START, END)
    assert c.unreachable == {}
    flaky = ScriptedProvider("akshare", [ConnectionError("reset"), GOOD, ConnectionError("reset"), GOOD])
    c, _ = chain([flaky], retries=0)
    with pytest.raises(AllProvidersFailed):
        c.fetch("300474.SZ", START, END)
    c.fetch("300474.SZ", START, END)
    with pytest.raises(AllProvidersFailed):
        c.fetch("300474.SZ", START, END)
    assert c.unreachable == {}


def test_a_partial_answer_is_completed_by_the_next_providers(tmp_path):
    """local holds 03-01..03-04 only; the rest of the asked range (03-05..03-12) is asked of the next provider,
    so a local folder does not stop the network providers from filling the tail. A second load with nothing new
    rewrites nothing."""
    from engine.data.cache import PriceCache
    from engine.data.fetch import ensure_cached

    local = ScriptedProvider("local", [GOOD])  # bars 03-01 and 03-04
    tail = bars(["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08", "2024-03-11", "2024-03-12"],
                [10.5, 10.6, 10.7, 10.8, 10.9, 11.0, 11.1], source="y")
    network = ScriptedProvider("yfinance", [tail])
    c, _ = chain([local, network], retries=0)
    store = PriceCache(tmp_path / "c")
    report = ensure_cached(store, ["300474.SZ"], START, END, chain=c)
    assert len(local.calls) == 1 and len(network.calls) == 1
    assert network.calls[0][1] == dt.date(2024, 3, 4)  # asked from the shared bar, for rebasing
    cached = store.read("300474.SZ")
    assert cached["close"].iloc[-1] == pytest.approx(11.1) and len(cached) == 8
    assert report.missing == []
    stamp = store.entry("300474.SZ")["updated"]
    again = ensure_cached(PriceCache(tmp_path / "c"), ["300474.SZ"], START, END, chain=c)
    assert again.missing == [] and PriceCache(tmp_path / "c").entry("300474.SZ")["updated"] == stamp
    assert len(local.calls) == 1 and len(network.calls) == 1
