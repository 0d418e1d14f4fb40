"""Column headings of the screen table shown by ``ratingbt screen`` and the HTML report (no heavy imports, so
the CLI's ``--help`` can list them quickly)."""

from __future__ import annotations

__all__ = ["SCREEN_DISPLAY", "SCREEN_GROUPS"]

#: Screen columns shown in the report and the CLI, with their headings. ``note`` (stale prices, no price data) sits
#: next to the status it qualifies, so a wide table does not push it out of view.
SCREEN_DISPLAY = [
    ("code", "code"), ("name", "name"), ("broker", "broker"), ("rating", "rating"), ("band", "band"),
    ("report_date", "report date"), ("horizon_end", "horizon end"), ("sessions_elapsed", "elapsed"),
    ("sessions_left", "left"), ("price_then", "price then"), ("price_now", "price now"),
    ("stock_return", "stock"), ("benchmark_return", "benchmark"), ("excess_return", "excess"),
    ("status", "status"), ("excess_needed", "needed"), ("note", "note"), ("target_price", "target"),
    ("upside_left", "upside"), ("n_brokers", "brokers"), ("consensus_level", "consensus"),
]


#: Group labels over the screen's columns in the report (columns of one group are adjacent in SCREEN_DISPLAY).
SCREEN_GROUPS = {
    "code": "Pick", "name": "Pick", "broker": "Pick", "rating": "Pick", "band": "Pick",
    "report_date": "Horizon", "horizon_end": "Horizon", "sessions_elapsed": "Horizon", "sessions_left": "Horizon",
    "price_then": "Price", "price_now": "Price",
    "stock_return": "So far vs benchmark", "benchmark_return": "So far vs benchmark",
    "excess_return": "So far vs benchmark", "status": "So far vs benchmark", "excess_needed": "So far vs benchmark",
    "note": "So far vs benchmark",
    "target_price": "Target", "upside_left": "Target", "n_brokers": "Coverage", "consensus_level": "Coverage",
}
