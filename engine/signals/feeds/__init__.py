"""Rating feeds that keep the signals history growing: CNINFO (daily list), Eastmoney (per stock, with analyst,
target and the broker's own word), Sina (per stock), ETNet (HK per stock). Runner and state file:
:mod:`engine.signals.feeds.base`; each source's real columns are documented in its module.

``FEEDS[name](**kwargs)`` builds a feed; ``KEYS_BY`` says whether its keys are days or symbols.
"""

from __future__ import annotations

from engine.signals.feeds.base import Feed, FeedFormatError, FeedReport, FeedState, run_feed, state_path
from engine.signals.feeds.cninfo import CninfoFeed, session_keys
from engine.signals.feeds.eastmoney import EastmoneyFeed
from engine.signals.feeds.etnet import EtnetFeed
from engine.signals.feeds.sina import SinaFeed

__all__ = ["FEEDS", "KEYS_BY", "Feed", "FeedFormatError", "FeedReport", "FeedState", "run_feed", "state_path",
           "session_keys", "CninfoFeed", "EastmoneyFeed", "SinaFeed", "EtnetFeed"]

FEEDS = {"cninfo": CninfoFeed, "eastmoney": EastmoneyFeed, "sina": SinaFeed, "etnet": EtnetFeed}
KEYS_BY = {"cninfo": "day", "eastmoney": "symbol", "sina": "symbol", "etnet": "symbol"}
