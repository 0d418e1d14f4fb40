"""English reports of foreign brokers (engine.signals.english): first pages and disclosures written for these tests
in the layouts foreign brokers use (not copies of real reports), each asserting the values a reader would write down."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from engine.signals.english import is_english, parse_english_scale
from engine.signals.extract import extract_report
from engine.signals.scales import load_registry
from engine.signals.security_master import load_security_master

FILLER = ("We came away from the results incrementally more confident on demand, margins and the capex plan, and "
          "we think the market underestimates the earnings power of the core business over the next two years.\n") * 6

JPM_HK = """Asia Pacific Equity Research
12 March 2025
J P M O R G A N
China Resources Power
Coal costs ease, tariff risk priced in; u/g to OW
▲Overweight
Previous: Neutral
0836.HK, 836 HK
Price (11 Mar 25):HK$19.42
▲Price Target (Dec-25):HK$24.00
Prior (Jun-25):HK$18.50
Utilities
Jane Doe AC
(852) 2800-0000
jane.doe@jpmorgan.com
J.P. Morgan Securities (Asia Pacific) Limited
""" + FILLER + """We upgrade the stock to OW with a PT of HK$24.00. Completed 11 Mar 2025 09:15 PM HKT
\f
Analyst Certification: The Research Analyst(s) denoted by an "AC" on the cover of this report certifies ...
Explanation of Equity Research Ratings
Overweight [Over the next six to twelve months, we expect this stock will outperform the average total return of the
stocks in the analyst's (or the analyst's team's) coverage universe.]
Neutral [Over the next six to twelve months, we expect this stock will perform in line with the average total return
of the stocks in the analyst's (or the analyst's team's) coverage universe.]
Underweight [Over the next six to twelve months, we expect this stock will underperform the average total return of
the stocks in the analyst's (or the analyst's team's) coverage universe.]
Other Disclosures last revised March 01, 2025.
"""

MS_A = """M Update
Jiangsu Example Pharma (002158.SZ, 002158 CH) | China
Results beat; Upgrade to Overweight
""" + FILLER + """Morgan Stanley Asia Limited+
John Roe
Equity Analyst
What's Changed
Jiangsu Example Pharma (002158.SZ) From To
Rating Equal-weight Overweight
Price Target Rmb38.00 Rmb52.50
Stock Rating Overweight
Industry View In-Line
Price target Rmb52.50
Shr price, close (Apr 3, 2025) Rmb41.20
Mkt cap, curr (mm) Rmb12,345
April 6, 2025 10:22 PM GMT
"""

CITI_H = """Citi Research | Equity
Example Holdings (0522.HK)
5 June 2025
Rating: 1H
Target Price HK$105.00
Price (4 Jun 25) HK$88.10
Initiation of Coverage: initiate with a Buy rating on the back of new orders.
Citigroup Global Markets Asia Limited
""" + FILLER + """Citi Research Citi Research Citi Research
"""

GS_US = """Goldman Sachs Global Investment Research
Example Robotics (XMPL.US): Raising estimates; Buy (on CL)
6 July 2026 | 12:12PM HKT
""" + FILLER + """Maintain Buy (on CL).
XMPL.US 12m Price Target: $1,250.00 Price: $980.50 Upside: 27.5%
Source: Company data, Goldman Sachs Research estimates. Price as of 3 Jul 2026 close.
"""


def _extract(text: str):
    return extract_report(text, "test", load_registry(), load_security_master())


def _only_rating(rep) -> dict:
    rated = [r for r in rep.rows if r["kind"] == "rating"]
    assert len(rated) == 1, rated
    return rated[0]


def test_jpm_style_hk_upgrade_with_previous_rating_and_scale():
    rep = _extract(JPM_HK)
    row = _only_rating(rep)
    assert rep.broker == "摩根大通" and rep.report_date == dt.date(2025, 3, 12)
    assert (row["code"], row["market"], row["currency"]) == ("00836.HK", "HK", "HKD")
    assert (row["rating"], row["previous_rating"], row["action"]) == ("Overweight", "Neutral", "upgrade")
    assert row["target_price"] == 24.0 and row["target_low"] == 24.0 and row["target_high"] == 24.0
    assert math.isnan(row["target_horizon_months"])  # "Dec-25" is a date, not a number of months
    assert row["price_at_report"] == 19.42 and row["price_date"] == dt.date(2025, 3, 11)
    assert row["language"] == "en" and row["scale_type"] == "coverage"
    assert row["benchmark_promised"] == "coverage universe" and row["horizon_months"] == "6-12"
    assert row["band_low"] == 0.0 and math.isnan(row["band_high"]) and row["rating_level"] == 2
    prov = json.loads(row["provenance"])
    assert prov["rating"]["page"] == 1 and prov["rating"]["snippet"] == "▲Overweight"
    assert prov["scale"]["page"] == 2
    assert "Previous: Neutral" in prov["previous_rating"]["snippet"]
    assert 0 < row["confidence"] <= 1 and row["evidence"]
    assert row["analysts"] == "Jane Doe"  # the "AC" (analyst certification) mark is not part of the name
    assert prov["action"]["snippet"] == "Neutral → Overweight" and prov["action"]["page"] == 1


def test_ms_style_a_share_from_to_table():
    rep = _extract(MS_A)
    row = _only_rating(rep)
    assert rep.broker == "摩根士丹利" and rep.report_date == dt.date(2025, 4, 6)
    assert (row["code"], row["market"], row["name"]) == ("002158.SZ", "A", "Jiangsu Example Pharma")
    assert (row["rating"], row["previous_rating"], row["action"]) == ("Overweight", "Equal-weight", "upgrade")
    assert row["target_price"] == 52.5 and row["currency"] == "CNY"  # the "To" column of the change table
    assert row["price_at_report"] == 41.2 and row["price_date"] == dt.date(2025, 4, 3)
    assert rep.industry_rating == "In-Line"


def test_citi_numeric_code_initiation():
    rep = _extract(CITI_H)
    row = _only_rating(rep)
    assert rep.broker == "花旗" and rep.report_date == dt.date(2025, 6, 5)
    assert (row["code"], row["rating"], row["risk_suffix"]) == ("00522.HK", "Buy", "H")
    assert row["action"] == "initiate"
    assert (row["target_price"], row["price_at_report"], row["currency"]) == (105.0, 88.1, "HKD")
    assert row["price_date"] == dt.date(2025, 6, 4)


def test_non_china_listing_kept_as_printed_with_market_other():
    rep = _extract(GS_US)
    row = _only_rating(rep)
    assert rep.broker == "高盛" and rep.report_date == dt.date(2026, 7, 6)
    assert (row["code"], row["market"], row["currency"]) == ("XMPL.US", "other", "USD")
    assert (row["rating"], row["action"]) == ("Buy", "reiterate")
    assert row["target_price"] == 1250.0 and row["target_horizon_months"] == 12  # thousands separator, "12m"
    assert row["price_at_report"] == 980.5 and row["price_date"] == dt.date(2026, 7, 3)
    assert row["benchmark"] == ""
    assert any("market 'other'" in m.text for m in rep.messages)


@pytest.mark.parametrize("printed,code", [("(0522.HK)", "00522.HK"), ("(522 HK)", "00522.HK"),
                                          ("(002158 CH)", "002158.SZ"), ("(600183.SS)", "600183.SH"),
                                          ("(2330.TW)", "2330.TW"), ("(STX.US)", "STX.US"),
                                          ("(012330 KS)", "012330.KS"), ("(6752.T, 6752 JT)", "6752.T")])
def test_code_spellings(printed, code):
    text = GS_US.replace("(XMPL.US)", printed).replace("XMPL.US 12m", "12m")
    assert _only_rating(_extract(text))["code"] == code


def test_thousands_separators_and_won():
    text = JPM_HK.replace("HK$19.42", "W1,564,000").replace("HK$24.00", "W2,750,000").replace("0836.HK, 836 HK",
                                                                                             "000660.KS, 000660 KS")
    row = _only_rating(_extract(text))
    assert (row["price_at_report"], row["target_price"], row["currency"]) == (1564000.0, 2750000.0, "KRW")


def test_date_traps():
    # only a month printed: no publication date; the price date and a disclosure revision date are not it
    text = GS_US.replace("6 July 2026 | 12:12PM HKT", "July 2026") + "\nOther Disclosures last revised July 04, 2026\n"
    rep = _extract(text)
    assert rep.report_date is None
    assert any("no publication date" in m.text for m in rep.messages)
    rep = _extract(JPM_HK.replace("12 March 2025\n", ""))
    assert rep.report_date is None  # "Price (11 Mar 25)" and "Completed 11 Mar 2025" are not publication dates


def test_absolute_scale_with_rating_table():
    disclosures = """Important Disclosures
INVESTMENT RATINGS reflect the analyst's assessment of a stock's absolute total return potential. Our investment
ratings are: 1 - Buy stocks are expected to have a total return of at least 10% and are the most attractive stocks
in the coverage cluster; 2 - Neutral stocks are expected to remain flat or increase in value; 3 - Underperform stocks are the
least attractive stocks in a coverage cluster. Analysts assign ratings considering the 0-12 month total return
expectation for a stock.
Investment rating Total return expectation (within 12-month period of date of initial rating)
Buy ≥ 10% ≤ 70%
Neutral ≥ 0% ≤ 30%
Underperform N/A ≥ 20%
"""
    scale, scale_type, promised, evidence = parse_english_scale(disclosures, "美银证券")
    assert (scale_type, promised) == ("absolute", "absolute")
    bands = {b.rating: (b.low, b.high) for b in scale.stock.bands}
    assert bands["Buy"] == (0.10, None) and bands["Neutral"] == (0.0, None)
    assert scale.stock.horizon_months == "12"
    assert evidence.startswith("Buy stocks are expected")


def test_relative_scale_to_market_index():
    disclosures = """Disclosure Appendix
Outperform: Stock will outpace the market index by more than 15 pp in the year ahead.
Market-Perform: Stock will perform in line with that market index (+/- 15 pp) in the year ahead.
Underperform: Stock will fall short of that market index by more than 15 pp in the year ahead.
"""
    scale, scale_type, promised, _ = parse_english_scale(disclosures, "伯恩斯坦")
    assert (scale_type, promised) == ("relative", "market index")
    assert [(b.rating, b.low, b.high) for b in scale.stock.bands] == [
        ("Outperform", 0.15, None), ("Market-Perform", -0.15, 0.15), ("Underperform", None, -0.15)]
    assert scale.stock.horizon_months == "12"


def test_no_definitions_no_scale():
    assert parse_english_scale("Important Disclosures\nNothing about ratings here.", "x")[0] is None


def test_language_detection():
    assert is_english(JPM_HK) and is_english(GS_US)
    chinese = "[Table_Title] 阳光电源（300274）\n投资评级：买入（维持）\n" + "储能业务保持高增，海外订单饱满。" * 80 + "\nEPS PE ROE"
    assert not is_english(chinese)
    assert not is_english("Buy")


HSBC_STYLE = """Equities | Utilities
12 March 2025
Example Power (0836.HK)
Buy (from Hold)
Target price (HKD) 24.00
Share price (HKD) 19.42
Potential return 23.6%
Reuters (Equity) 0836.HK Bloomberg (Equity) 836 HK
HSBC Qianhai Securities Limited
""" + FILLER + "HSBC HSBC\n"

MACQUARIE_STYLE = """Macquarie Research
2025-06-05
Example Motors (2333 HK)
Outperform
Price (at 4 Jun 2025) HK$8.85
12-month target HK$11.20
Upgrade to Outperform on margin recovery.
""" + FILLER


def test_hsbc_style_from_previous_and_bloomberg_equity():
    rep = _extract(HSBC_STYLE)
    row = _only_rating(rep)
    assert rep.broker == "汇丰" and rep.report_date == dt.date(2025, 3, 12)
    assert (row["code"], row["rating"], row["previous_rating"], row["action"]) == ("00836.HK", "Buy", "Hold", "upgrade")
    assert (row["target_price"], row["price_at_report"], row["currency"]) == (24.0, 19.42, "HKD")


def test_macquarie_style_iso_date_and_month_target():
    rep = _extract(MACQUARIE_STYLE)
    row = _only_rating(rep)
    assert rep.broker == "麦格理" and rep.report_date == dt.date(2025, 6, 5)
    assert (row["code"], row["rating"], row["action"]) == ("02333.HK", "Outperform", "upgrade")
    assert (row["target_price"], row["target_horizon_months"]) == (11.2, 12)
    assert row["price_at_report"] == 8.85 and row["price_date"] == dt.date(2025, 6, 4)
