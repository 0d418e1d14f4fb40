"""Strategies: one file each, turning (signals, panel, parameters) into target weights. Drop a file here and name it.

The plug-in contract
--------------------
A strategy is a module ``strategies/<name>.py`` (or any ``.py`` file named by path in the config) that defines:

``Params``
    a pydantic model of its parameters (unknown keys are rejected with the key named). Fields whose values are
    lists by nature (``brokers``) take a list; any other field given a list in the config becomes a sweep axis.
``target_weights(signals, panel, params) -> pandas.DataFrame``
    Reads: the signals table (:data:`engine.signals.schema.SIGNAL_COLUMNS`; only rows it chooses to use) and the
    :class:`engine.data.panel.Panel` (sessions, codes, prices — never prices after the session it decides for).
    Returns: a DataFrame indexed by session (a subset of ``panel.sessions``) with panel codes as columns. A value is
    the target fraction of portfolio value to hold *from* that session on (trades at that session's open with
    ``execution: open``, at its close with ``execution: close``); ``0`` = exit; ``NaN`` = no instruction (hold).
    Fractions sum to ≤ 1 per row (long only; the simulator does not borrow).
``universe(signals, params) -> list[str]`` and ``start_date(signals, params) -> Timestamp | None`` (optional)
    the codes whose prices to load (default: every code in the signals) and the default start of the backtest
    (default: the earliest ``report_date`` of those codes).
``KERNEL_PARAMS`` (optional)
    names of ``Params`` fields that the simulator applies instead of the strategy (today: ``stop_loss``, a
    fraction below the average entry price). Varying only those in a sweep reuses one set of weights.
``overlay(equity, benchmark, params) -> pandas.Series`` (optional)
    post-processes the simulated equity curve (e.g. :mod:`strategies.hedged` subtracts a benchmark short).

Look-ahead rule: a row dated *t* may use only information published before the session *t* trades (for signals:
``report_date < t``; entering on the first session *after* publication). Built-ins: ``follow_ratings``,
``hedged``, ``target_weights``.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

__all__ = ["load_strategy", "BUILTIN"]

BUILTIN = ("follow_ratings", "hedged", "target_weights")


def load_strategy(name: str) -> ModuleType:
    """Import a strategy by name (``strategies/<name>.py``) or by a path to a ``.py`` file; checks the contract."""
    path = Path(name)
    if name.endswith(".py"):
        if not path.is_file():
            raise FileNotFoundError(f"strategy file {name} does not exist")
        spec = importlib.util.spec_from_file_location(f"strategies_user_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    else:
        here = Path(__file__).parent
        available = sorted(p.stem for p in here.glob("*.py") if not p.stem.startswith("_"))
        if name not in available:
            raise ValueError(f"strategy.name {name!r} is unknown; available: {', '.join(available)} "
                             "(or a path to a .py file)")
        module = importlib.import_module(f"strategies.{name}")
    for attr in ("Params", "target_weights"):
        if not hasattr(module, attr):
            raise TypeError(f"strategy {name!r} does not define {attr} (see strategies/__init__.py for the contract)")
    return module
