"""Scoring broker ratings against each broker's own promise: ``scores``, ``scorecard`` and ``event_study`` tables.

Public API (used by ``ratingbt score``, ``ratingbt run`` and ``ratingbt screen``)::

    from engine.score import run_scoring, ScoreConfig
    result = run_scoring(signals, panel, as_of="2026-06-30")      # -> ScoreResult
    result.scores, result.scorecard, result.event_study            # pandas DataFrames
    result.write(out_dir)              # scores, scorecard, event_study: .csv (.parquet above 100k rows)

Steps of :func:`run_scoring`:

1. :func:`engine.signals.schema.coerce_signals` checks the table; :func:`engine.score.windows.cut_panel` drops
   sessions after ``as_of``.
2. :func:`engine.score.windows.score_windows` maps signals to panel indices (base, horizon end, benchmark; ranges
   expanded to two rows) on integer codes of the text columns and calls the numba kernel
   :func:`engine.kernels.forward_returns.forward_returns_rows_nb`, then adds realised rating, hit, direction hit,
   touch hit and status (new text columns are categoricals built from codes, never one Python string per row).
3. :func:`engine.score.scorecard.scorecard` groups the scores by broker, analyst, rating, action and market
   (every statistic per group in :func:`engine.kernels.group_stats.group_stats_nb`).
4. :func:`engine.score.event_study.event_study` averages cumulative excess paths by rating level, action and kind
   (:func:`engine.kernels.event_sums.event_group_sums_nb` accumulates them straight from the panel).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from engine.data.panel import Panel
from engine.score.event_study import EVENT_STUDY_COLUMNS, event_study
from engine.score.scales import Band, ScaleLookup, default_scale_lookup, realised_rating
from engine.score.scorecard import SCORECARD_COLUMNS, scorecard
from engine.score.windows import SCORE_COLUMNS, ScoreConfig, cut_panel, score_windows, score_windows_with_indices
from engine.signals.schema import coerce_signals

__all__ = ["ScoreResult", "ScoreConfig", "run_scoring", "score_windows", "scorecard", "event_study", "Band",
           "ScaleLookup", "realised_rating", "default_scale_lookup", "SCORE_COLUMNS", "SCORECARD_COLUMNS",
           "EVENT_STUDY_COLUMNS"]


@dataclass
class ScoreResult:
    """The three tables of a scoring run (columns and units: README, section *Scoring brokers*)."""

    scores: pd.DataFrame
    scorecard: pd.DataFrame
    event_study: pd.DataFrame
    config: ScoreConfig
    as_of: pd.Timestamp | None = None

    def write(self, out_dir: str | Path, fmt: str | None = None,
              tables: tuple[str, ...] = ("scores", "scorecard", "event_study")) -> list[Path]:
        """Write ``tables`` (default all three) into ``out_dir`` with :func:`engine.tables.write_table` (CSV, or
        parquet above 100,000 rows; ``fmt`` forces ``csv`` / ``parquet``); returns the paths."""
        from engine.tables import write_table

        return [write_table(getattr(self, name), out_dir, name, fmt=fmt) for name in tables]

    def broker_scorecard(self) -> pd.DataFrame:
        """The scorecard rows grouped by broker (ratings and mentions)."""
        return self.scorecard[self.scorecard["group_by"] == "broker"].reset_index(drop=True)


#: String columns of the signals table that repeat a few values (brokers, codes, ratings): held as pandas
#: categoricals while scoring, so copying and grouping rows moves integer codes, not strings.
CATEGORICAL_COLUMNS = ("source", "broker", "report_type", "industry", "industry_rating", "code", "name", "market",
                       "kind", "rating", "action", "currency", "horizon_months", "benchmark", "analysts",
                       "broker_group", "language", "risk_suffix", "previous_rating", "industry_action",
                       "benchmark_promised", "scale_type", "scale_source")


def categorize_strings(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with :data:`CATEGORICAL_COLUMNS` as categoricals of their strings (values unchanged)."""
    from concurrent.futures import ThreadPoolExecutor

    out = table.copy(deep=False)
    todo = [col for col in CATEGORICAL_COLUMNS
            if col in out.columns and not isinstance(out[col].dtype, pd.CategoricalDtype)]
    # Arrow's hashing releases the GIL: two threads encode two columns at once on a large table
    with ThreadPoolExecutor(max_workers=2 if len(out) > 100_000 else 1) as pool:
        encoded = list(pool.map(lambda series: series.astype("category"), [out[col] for col in todo]))
    for col, values in zip(todo, encoded):
        out[col] = values
    return out


def run_scoring(signals: pd.DataFrame, panel: Panel, as_of: object | None = None,
                config: ScoreConfig | None = None, scale_lookup: ScaleLookup | None = None,
                event_study_enabled: bool = True,
                on_scores: Callable[[pd.DataFrame], None] | None = None) -> ScoreResult:
    """Score every signal on ``panel`` (see the module docstring for the steps and ``windows`` for conventions).

    ``signals`` is a signals table (:data:`engine.signals.schema.SIGNAL_COLUMNS`); its repetitive string columns come
    back as categoricals in ``scores`` (:data:`CATEGORICAL_COLUMNS`; compare and group them as strings). ``panel`` must hold the stocks and
    their benchmarks (``000300.SH`` / ``HSI``) as adjusted closes. ``as_of`` (date-like) cuts the prices: nothing after
    it is read. ``scale_lookup(broker, market)`` returns a broker's bands for the realised rating (default:
    :func:`engine.score.scales.default_scale_lookup`). ``on_scores(scores)`` is called as soon as the scores table
    exists, before the scorecard and the event study are computed from it (the CLI starts writing it there).
    """
    config = config or ScoreConfig()
    table = categorize_strings(coerce_signals(signals))
    cut = cut_panel(panel, as_of)
    if not cut.close.flags.f_contiguous:  # the kernels walk one stock's column at a time: copy to that layout once
        cut = dataclasses.replace(cut, close=np.asfortranarray(cut.close))
    lookup = scale_lookup or default_scale_lookup(table)
    scores, indices = score_windows_with_indices(table, cut, config, as_of=as_of, scale_lookup=lookup)
    if on_scores is not None:
        on_scores(scores)
    card = scorecard(scores, range_leg=config.range_leg)
    if event_study_enabled:
        first = (scores["horizon_leg"] != "long").to_numpy()  # one path per signal
        asset = np.where(indices["after_as_of"], -1, indices["asset_col"])[first]
        position = np.cumsum(first) - 1  # row of scores → row of the one-path-per-signal table
        visit = indices["visit_order"]
        study = event_study(scores[["kind", "rating_level", "action"]][first].reset_index(drop=True), asset,
                            indices["bench_col"][first], indices["base_idx"][first], cut,
                            n_offsets=config.event_offsets, excess_mode=config.excess_mode,
                            visit_order=position[visit[first[visit]]])
    else:
        study = pd.DataFrame(columns=EVENT_STUDY_COLUMNS)
    return ScoreResult(scores=scores, scorecard=card, event_study=study, config=config,
                       as_of=None if as_of is None else pd.Timestamp(as_of))
