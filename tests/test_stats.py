"""Each metric against an independent computation: vectorbt's returns kernels or a hand/pandas formula."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine import stats

PERIODS = 242.0


@pytest.fixture
def curves():
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2024-01-02", periods=300)
    bench_r = rng.normal(0.0003, 0.012, len(days))
    port_r = 0.0002 + 1.2 * bench_r + rng.normal(0, 0.006, len(days))
    port_r[0] = bench_r[0] = 0.0
    equity = pd.Series(1e6 * np.cumprod(1 + port_r), index=days)
    bench = pd.Series(3500 * np.cumprod(1 + bench_r), index=days)
    return equity, bench


def test_against_vectorbt_kernels(curves):
    vnb = pytest.importorskip("vectorbt.returns.nb")
    equity, bench = curves
    r, b = stats.to_returns(equity), stats.to_returns(bench)
    ra, ba = r.to_numpy(), b.to_numpy()
    assert stats.annual_return(r, PERIODS) == pytest.approx(vnb.annualized_return_1d_nb(ra, PERIODS), rel=1e-12)
    assert stats.volatility(r, PERIODS) == pytest.approx(vnb.annualized_volatility_1d_nb(ra, PERIODS), rel=1e-12)
    assert stats.sharpe(r, PERIODS) == pytest.approx(vnb.sharpe_ratio_1d_nb(ra, PERIODS), rel=1e-12)
    assert stats.sortino(r, PERIODS) == pytest.approx(vnb.sortino_ratio_1d_nb(ra.copy(), PERIODS), rel=1e-12)
    assert stats.max_drawdown(equity) == pytest.approx(vnb.max_drawdown_1d_nb(ra), rel=1e-9)
    assert stats.calmar(r, equity, PERIODS) == pytest.approx(vnb.calmar_ratio_1d_nb(ra, PERIODS), rel=1e-9)
    assert stats.beta(r, b) == pytest.approx(vnb.beta_1d_nb(ra, ba), rel=1e-12)
    assert stats.alpha(r, b, PERIODS) == pytest.approx(vnb.alpha_1d_nb(ra, ba, PERIODS), rel=1e-12)
    # vectorbt's information ratio is per session: ours is annualised by sqrt(periods)
    assert stats.information_ratio(r, b, PERIODS) == pytest.approx(
        vnb.information_ratio_1d_nb(ra, ba) * math.sqrt(PERIODS), rel=1e-12)
    assert 1.0 < stats.beta(r, b) < 1.4


def test_hand_worked_small_curve():
    days = pd.to_datetime(["2024-01-31", "2024-02-01", "2024-02-29", "2024-03-01"])
    equity = pd.Series([100.0, 110.0, 99.0, 108.9], index=days)
    bench = pd.Series([100.0, 105.0, 105.0, 110.25], index=days)
    r, b = stats.to_returns(equity), stats.to_returns(bench)   # r = +10 %, -10 %, +10 %; b = +5 %, 0, +5 %
    assert stats.total_return(equity) == pytest.approx(0.089)
    assert stats.max_drawdown(equity) == pytest.approx(-0.1)
    assert stats.excess_return(equity, bench) == pytest.approx(0.089 - 0.1025)
    assert stats.share_days_beating(r, b) == pytest.approx(2 / 3)
    # active returns 0.05, -0.10, 0.05: mean 0, so IR = 0; TE = std([.05,-.1,.05], ddof=1) × sqrt(242)
    assert stats.tracking_error(r, b, 242) == pytest.approx(np.std([0.05, -0.1, 0.05], ddof=1) * math.sqrt(242))
    assert stats.information_ratio(r, b, 242) == pytest.approx(0.0, abs=1e-12)
    # months: Jan (only the start) 0 vs 0 → not beating; Feb 99/100 vs 105/100 → no; Mar 108.9/99 vs 110.25/105 → yes
    assert stats.share_months_beating(equity, bench) == pytest.approx(1 / 3)
    # turnover: traded 200 in all, half = 100, mean equity 104.475, over 3/242 years
    traded = pd.Series([0.0, 100.0, 0.0, 100.0], index=days)
    assert stats.turnover(traded, equity, 242) == pytest.approx(100 / equity.mean() / (3 / 242))
    assert stats.costs_paid(pd.Series([1.0, 2.0, 0.0, 0.5], index=days), equity) == pytest.approx(3.5 / 100)


def test_sessions_per_year_from_the_calendar():
    days = pd.bdate_range("2023-01-02", "2024-12-31")
    expected = np.mean([len(days[days.year == 2023]), len(days[days.year == 2024])])
    assert stats.sessions_per_year(days) == pytest.approx(expected)
    partial = pd.bdate_range("2024-03-01", "2024-08-30")
    assert stats.sessions_per_year(partial) == pytest.approx((len(partial) - 1) / ((partial[-1] - partial[0]).days / 365.25))
    with pytest.raises(ValueError):
        stats.sessions_per_year(partial[:1])


def test_summary_without_benchmark_has_nan_relative_metrics(curves):
    equity, _ = curves
    zero = pd.Series(0.0, index=equity.index)
    out = stats.summary(equity, None, zero, zero, PERIODS)
    assert math.isnan(out["alpha"]) and out["total_return"] == pytest.approx(equity.iloc[-1] / 1e6 - 1)


def test_every_summary_number_by_hand():
    """The 4-session curve of ``test_hand_worked_small_curve`` through :func:`stats.summary`, each number worked by
    hand: r = (+10 %, −10 %, +10 %), rb = (+5 %, 0, +5 %), 242 sessions a year, 3 return sessions."""
    days = pd.to_datetime(["2024-01-31", "2024-02-01", "2024-02-29", "2024-03-01"])
    equity = pd.Series([100.0, 110.0, 99.0, 108.9], index=days)
    bench = pd.Series([100.0, 105.0, 105.0, 110.25], index=days)
    fees = pd.Series([0.0, 0.3, 0.0, 0.2], index=days)
    traded = pd.Series([0.0, 100.0, 0.0, 100.0], index=days)
    out = stats.summary(equity, bench, fees, traded, 242.0)
    years = 3 / 242
    assert out["total_return"] == pytest.approx(0.089, abs=1e-12)
    assert out["benchmark_total_return"] == pytest.approx(0.1025, abs=1e-12)
    assert out["excess_return"] == pytest.approx(-0.0135, abs=1e-12)
    # CAGR over 3/242 years: 1.089 ** (242/3) − 1 and 1.1025 ** (242/3) − 1
    assert out["annual_return"] == pytest.approx(1.089 ** (1 / years) - 1, rel=1e-12)
    assert out["annual_excess_return"] == pytest.approx(1.089 ** (1 / years) - 1.1025 ** (1 / years), rel=1e-12)
    # mean r = 1/30; sample variance ((1/15)² + (2/15)² + (1/15)²) / 2 = 1/75
    assert out["volatility"] == pytest.approx(math.sqrt(1 / 75) * math.sqrt(242), rel=1e-12)
    assert out["sharpe"] == pytest.approx((1 / 30) / math.sqrt(1 / 75) * math.sqrt(242), rel=1e-12)
    # downside deviation sqrt(mean(min(r, 0)²)) = sqrt(0.01 / 3)
    assert out["sortino"] == pytest.approx((1 / 30) * 242 / (math.sqrt(0.01 / 3) * math.sqrt(242)), rel=1e-12)
    assert out["max_drawdown"] == pytest.approx(-0.1, abs=1e-12)
    assert out["calmar"] == pytest.approx((1.089 ** (1 / years) - 1) / 0.1, rel=1e-12)
    # beta: b − mean(b) = (1/60, −1/30, 1/60); cov = (1/600 + 1/300 + 1/600) / 3 = 1/450; var = (1/600) / 3 → 4
    assert out["beta"] == pytest.approx(4.0, rel=1e-12)
    # alpha: mean(r − 4 rb) = mean(−0.1, −0.1, −0.1) = −0.1 per session → 0.9 ** 242 − 1
    assert out["alpha"] == pytest.approx(0.9 ** 242 - 1, rel=1e-9)
    # turnover: one-way 100 over mean equity (100 + 110 + 99 + 108.9) / 4 = 104.475, per 3/242 years = 77.2115…
    assert out["turnover"] == pytest.approx(100 / 104.475 * 242 / 3, rel=1e-12)
    assert out["turnover"] == pytest.approx(77.21145, abs=1e-5)
    assert out["costs_paid"] == pytest.approx(0.5, abs=1e-12)
    assert out["costs_paid_fraction"] == pytest.approx(0.005, abs=1e-12)
    assert out["share_days_beating"] == pytest.approx(2 / 3, abs=1e-12)
    assert out["share_months_beating"] == pytest.approx(1 / 3, abs=1e-12)
    assert out["information_ratio"] == pytest.approx(0.0, abs=1e-12)


# ---- tear-sheet statistics of the report, each against a plain pandas / numpy loop (quantstats' formulas) --------

def test_yearly_returns_hand_worked_and_against_pandas_resample(curves):
    values = pd.Series([100.0, 110.0, 121.0, 99.0, 108.9],
                       index=pd.to_datetime(["2024-12-30", "2024-12-31", "2025-06-30", "2025-12-31", "2026-01-05"]))
    got = stats.yearly_returns(values)
    assert list(got.index) == [2024, 2025, 2026]
    assert got.to_numpy() == pytest.approx([0.10, 99 / 110 - 1, 108.9 / 99 - 1], abs=1e-12)
    equity, _ = curves
    year_end = equity.resample("YE").last()  # quantstats: (1 + r).prod() - 1 per year, first from the first value
    reference = pd.concat([pd.Series([equity.iloc[0]]), pd.Series(year_end.to_numpy())]).pct_change().iloc[1:]
    np.testing.assert_allclose(stats.yearly_returns(equity).to_numpy(), reference.to_numpy(), rtol=0, atol=1e-12)
    compounded = (1 + equity.pct_change().fillna(0)).groupby(equity.index.year).prod() - 1
    np.testing.assert_allclose(stats.yearly_returns(equity).to_numpy(), compounded.to_numpy(), rtol=1e-10)


def test_rolling_sharpe_volatility_beta_against_plain_loops(curves):
    equity, bench = curves
    r = equity.pct_change().iloc[1:]
    b = bench.pct_change().iloc[1:]
    window = stats.rolling_window(PERIODS)
    assert window == 121
    sharpe = stats.rolling_sharpe(r, window, PERIODS, rf=0.02)
    vol = stats.rolling_volatility(r, window, PERIODS)
    beta = stats.rolling_beta(r, b, window)
    assert sharpe.iloc[: window - 1].isna().all() and vol.iloc[: window - 1].isna().all()
    for end in (window - 1, window + 17, len(r) - 1):
        rr = r.to_numpy()[end - window + 1: end + 1]
        bb = b.to_numpy()[end - window + 1: end + 1]
        ex = rr - 0.02 / PERIODS
        assert sharpe.iloc[end] == pytest.approx(ex.mean() / np.std(ex, ddof=1) * math.sqrt(PERIODS), rel=1e-10)
        assert vol.iloc[end] == pytest.approx(np.std(rr, ddof=1) * math.sqrt(PERIODS), rel=1e-10)
        cov = np.mean((rr - rr.mean()) * (bb - bb.mean()))
        assert beta.iloc[end] == pytest.approx(cov / np.var(bb), rel=1e-9)
        window_series = pd.Series(rr)  # and the whole-sample functions agree on that window
        assert beta.iloc[end] == pytest.approx(stats.beta(window_series, pd.Series(bb)), rel=1e-9)


def test_drawdown_periods_hand_worked():
    values = pd.Series([100.0, 120.0, 90.0, 120.0, 130.0, 104.0, 117.0, 130.5, 125.0],
                       index=pd.bdate_range("2025-01-01", periods=9))
    got = stats.drawdown_periods(values, top=5)
    days = values.index
    assert list(got["peak"]) == [days[1], days[4], days[7]]
    assert list(got["valley"]) == [days[2], days[5], days[8]]
    assert list(got["recovery"][:2]) == [days[3], days[7]] and pd.isna(got["recovery"].iloc[2])
    assert got["depth"].to_numpy() == pytest.approx([-0.25, -0.2, 125 / 130.5 - 1], abs=1e-12)
    assert list(got["sessions"]) == [2, 3, 1] and list(got["recovered"]) == [True, True, False]
    assert len(stats.drawdown_periods(values, top=2)) == 2
    assert stats.drawdown_periods(pd.Series([1.0, 2.0, 3.0])).empty


def test_drawdown_periods_against_pandas_groups(curves):
    equity, _ = curves
    got = stats.drawdown_periods(equity, top=5)
    dd = equity / equity.cummax() - 1.0
    episode = (dd == 0).cumsum()  # each under-water stretch shares the count of the peak before it
    depths = dd[dd < 0].groupby(episode[dd < 0]).min().sort_values()
    np.testing.assert_allclose(got["depth"].to_numpy(), depths.head(5).to_numpy(), rtol=0, atol=1e-12)
    assert got["depth"].iloc[0] == pytest.approx(stats.max_drawdown(equity), abs=1e-12)
