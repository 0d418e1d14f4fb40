"""The ``score:`` section of a run config (YAML), validated with pydantic, → :class:`engine.score.ScoreConfig`.

Example (all keys optional)::

    score:
      excess_mode: absolute        # absolute: r − b (the brokers' definition) | relative: (1+r)/(1+b) − 1
      range_leg: long              # which end of a "6-12" range the scorecards use: short | long
      default_horizon_months: 12   # for signals without a horizon
      event_offsets: 251           # event study: sessions 0..250 after publication
      as_of: 2025-12-31            # score with prices up to this date only (null = all)
      ratings_dir: null            # scale registry folder (default configs/ratings)

``ratingbt run`` passes this section to :func:`settings_from_mapping` and then to
:func:`engine.score.run_scoring` (``config=settings.to_config(), as_of=settings.as_of``).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.score.windows import ScoreConfig

__all__ = ["ScoreSettings", "settings_from_mapping"]


class ScoreSettings(BaseModel):
    """Validated ``score:`` section (see module docstring for the keys and their units)."""

    model_config = ConfigDict(extra="forbid")
    excess_mode: Literal["absolute", "relative"] = "absolute"
    range_leg: Literal["short", "long"] = "long"
    default_horizon_months: int = Field(12, gt=0, le=120, description="months")
    event_offsets: int = Field(251, gt=0, le=2520, description="sessions")
    as_of: date | None = None
    ratings_dir: str | None = None

    def to_config(self) -> ScoreConfig:
        return ScoreConfig(excess_mode=self.excess_mode, range_leg=self.range_leg,
                           default_horizon_months=self.default_horizon_months, event_offsets=self.event_offsets)


def settings_from_mapping(section: Mapping[str, Any] | None, source: str = "config") -> ScoreSettings:
    """Validate a ``score:`` mapping; ``ValueError`` names ``source``, the key (``score.<key>``) and the problem."""
    try:
        return ScoreSettings.model_validate(dict(section or {}))
    except ValidationError as exc:
        problems = "; ".join(f"score.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ValueError(f"{source}: {problems}") from exc
