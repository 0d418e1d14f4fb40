"""Broker rating scales: what each rating word promises, read from a report's 评级说明 or from the registry.

A scale has a *stock* part and an *industry* part. Each part holds

- ``horizon_months``: ``"12"`` or a range ``"6-12"`` (a string so the range survives CSV round trips);
- ``benchmarks``: market → the code the part is scored against (``{"A": "000300.SH", "HK": "HSI"}``), and
  ``benchmarks_promised``: market → the benchmark as the definition prints it (``沪深300``, ``大盘``, ``coverage
  universe``, ``absolute``); ``scale_type`` is ``relative`` (vs an index), ``absolute`` (the stock's own return:
  upside to target vs the current price) or ``coverage`` (vs the analyst's coverage universe or the industry index —
  no index we hold: ``benchmarks`` is empty);
- ``bands``: the ratings, best first, each with the promised excess return over the benchmark as *fractions*
  (``low``/``high``; ``None`` = open end; both ``None`` = no numeric promise, e.g. "in line"); ``text`` keeps a
  verbal definition (``行业指数领先沪深300指数``) that has no numbers.

``rating_level`` maps a rating to +2 … −2 by its position: the first (most bullish) tier is +2, the last (most
bearish) −2, the neutral tier (the one whose band contains 0, or named 中性/持有/同步大市) is 0, tiers between top and
neutral +1 and between neutral and bottom −1. A 4-tier scale 推荐/谨慎推荐/中性/回避 gives +2/+1/0/−2.

The registry (:class:`ScaleRegistry`) is a folder of YAML files (``configs/ratings/<broker>.yaml``, each with dated
versions read from real reports) plus ``aliases.yaml`` (spellings and the lineage of renamed and merged brokers,
:mod:`engine.signals.brokers`); see the README section "Rating scales and the registry".
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.paths import REPO_ROOT
from engine.signals.brokers import BrokerBook, load_broker_book, normalize_broker_text, to_date

__all__ = [
    "RatingBand",
    "ScalePart",
    "RatingScale",
    "ScaleRegistry",
    "RATING_WORDS",
    "parse_scale_section",
    "parse_band_text",
    "compare_scales",
    "load_registry",
    "default_registry_dir",
    "normalize_broker_text",
    "scale_to_yaml",
]

#: Rating words seen across Chinese brokers (stock and industry), longest first when used in a regex.
RATING_WORDS: tuple[str, ...] = (
    "强烈推荐", "谨慎推荐", "审慎推荐", "推荐", "强推", "强烈买入", "谨慎买入", "买入", "买进", "谨慎增持", "审慎增持",
    "增持", "持有", "中性", "减持", "卖出", "回避", "强于大市", "同步大市", "弱于大市", "优于大市", "领先大市",
    "落后大市", "跑赢大市", "跑输大市", "跟随大市", "优于大势", "同步大势", "落后大势", "跑赢行业", "同步行业",
    "跑输行业", "看好", "看淡", "超配", "标配", "低配", "观望", "沽出", "区间操作", "无评级", "未评级",
)
_UNRATED_WORDS = ("无评级", "未评级", "/", "-", "—", "NA", "N/A", "暂无评级", "不评级")
_NEUTRAL_NAMES = ("中性", "持有", "同步大市", "同步行业", "标配", "跟随大市", "同步大势", "区间操作")


def parse_scale_section(text: str) -> "RatingScale | None":
    """Parse a report's 评级说明 (or a whole report) into a :class:`RatingScale`; see
    :func:`engine.signals.scale_parse.parse_scale_section`."""
    from engine.signals.scale_parse import parse_scale_section as _parse

    return _parse(text)


def parse_band_text(desc: str) -> tuple[float | None, float | None] | None:
    """One band description → ``(low, high)`` fractions; see :func:`engine.signals.scale_parse.parse_band_text`."""
    from engine.signals.scale_parse import parse_band_text as _parse

    return _parse(desc)


class RatingBand(BaseModel):
    """One tier: the rating word and its promised excess return band (fractions; ``None`` = open end)."""

    model_config = ConfigDict(extra="forbid")
    rating: str
    low: float | None = None
    high: float | None = None
    text: str | None = None

    @field_validator("low", "high", mode="before")
    @classmethod
    def _nan_to_none(cls, v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, (int, float)) and abs(v) > 5:
            raise ValueError(f"band edge {v} looks like a percent; write fractions (0.15 = 15 %)")
        return v


class ScalePart(BaseModel):
    """Stock or industry part of a scale (bands best first)."""

    model_config = ConfigDict(extra="forbid")
    horizon_months: str | None = None
    benchmarks: dict[str, str] = Field(default_factory=dict)
    benchmarks_promised: dict[str, str] = Field(default_factory=dict)
    scale_type: str = "relative"
    bands: list[RatingBand] = Field(default_factory=list)

    @field_validator("scale_type")
    @classmethod
    def _scale_type(cls, v):
        if v not in ("relative", "absolute", "coverage"):
            raise ValueError(f"scale_type {v!r} not one of relative, absolute, coverage")
        return v

    @field_validator("horizon_months", mode="before")
    @classmethod
    def _horizon(cls, v):
        if v is None:
            return None
        text = str(v).strip().replace("～", "-").replace("~", "-").replace("至", "-")
        if not re.fullmatch(r"\d{1,2}(-\d{1,2})?", text):
            raise ValueError(f"horizon_months {v!r} must be months like '12' or a range like '6-12'")
        return text

    def ratings(self) -> list[str]:
        return [b.rating for b in self.bands]

    def band(self, rating: str) -> RatingBand | None:
        for b in self.bands:
            if b.rating == rating:
                return b
        return None

    def level(self, rating: str) -> float:
        """+2 … −2 by position (see module docstring); NaN when the rating is not in this scale."""
        names = self.ratings()
        if rating not in names:
            return math.nan
        return float(_levels(self.bands)[names.index(rating)])

    def promised_for(self, market: str) -> str:
        """The benchmark as the definition prints it for ``market`` (``""`` when not printed)."""
        if market in self.benchmarks_promised:
            return self.benchmarks_promised[market]
        values = set(self.benchmarks_promised.values())
        return next(iter(values)) if len(values) == 1 else ""

    def benchmark_for(self, market: str) -> str | None:
        """The code a rating on ``market`` (``A``/``HK``/…) is scored against; ``None`` when there is none."""
        if market in self.benchmarks:
            return self.benchmarks[market]
        if len(set(self.benchmarks.values())) == 1:
            return next(iter(self.benchmarks.values()))
        return None


def _levels(bands: list[RatingBand]) -> list[int]:
    n = len(bands)
    if n == 0:
        return []
    if n == 1:
        return [0]
    neutral = None
    for i, b in enumerate(bands):
        if b.rating in _NEUTRAL_NAMES:
            neutral = i
            break
    if neutral is None:
        for i, b in enumerate(bands):
            if b.low is not None and b.high is not None and b.low < 0 < b.high:
                neutral = i
                break
    if neutral is None or neutral in (0, n - 1):
        return [round(2 - 4 * i / (n - 1)) for i in range(n)]
    out = []
    for i in range(n):
        if i == 0:
            out.append(2)
        elif i == n - 1:
            out.append(-2)
        elif i < neutral:
            out.append(1)
        elif i == neutral:
            out.append(0)
        else:
            out.append(-1)
    return out


class RatingScale(BaseModel):
    """A broker's scale, one dated version. ``source`` says where it came from (``report``, or in the registry the
    report file it was read from, e.g. ``reports/2024/broker_report.pdf``); ``as_of`` is that report's date and
    ``valid_from`` the first date the version applies (the earliest report showing it)."""

    model_config = ConfigDict(extra="forbid")
    broker: str
    aliases: list[str] = Field(default_factory=list)
    source: str = ""
    as_of: dt.date | None = None
    valid_from: dt.date | None = None
    notes: str = ""
    stock: ScalePart | None = None
    industry: ScalePart | None = None

    @field_validator("stock", "industry", mode="before")
    @classmethod
    def _bands_mapping(cls, v):
        """Accept ``bands: {推荐: [0.15, null], ...}`` (ordered mapping) as written in the YAML registry."""
        if isinstance(v, dict) and isinstance(v.get("bands"), dict):
            v = dict(v)
            rows = []
            for name, edges in v["bands"].items():
                if not isinstance(edges, (list, tuple)) or len(edges) not in (2, 3):
                    raise ValueError(f"bands.{name} must be [low, high] or [low, high, text] (fractions, null = "
                                     f"open end), got {edges!r}")
                rows.append({"rating": str(name), "low": edges[0], "high": edges[1],
                             "text": edges[2] if len(edges) == 3 else None})
            v["bands"] = rows
        return v


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-9


def compare_scales(own: RatingScale, registry: RatingScale) -> list[str]:
    """Human-readable differences between a report's own scale and the registry's (empty when they agree)."""
    diffs: list[str] = []
    for part_name in ("stock", "industry"):
        a, b = getattr(own, part_name), getattr(registry, part_name)
        if a is None or b is None:
            continue
        if a.horizon_months and b.horizon_months and a.horizon_months != b.horizon_months:
            diffs.append(f"{part_name} horizon {a.horizon_months} months in report vs {b.horizon_months} in registry")
        if a.ratings() != b.ratings():
            diffs.append(f"{part_name} ratings {'/'.join(a.ratings())} in report vs {'/'.join(b.ratings())} in registry")
            continue
        for x, y in zip(a.bands, b.bands):
            if not (_close(x.low, y.low) and _close(x.high, y.high)):
                diffs.append(f"{part_name} band of {x.rating}: [{x.low}, {x.high}] in report vs "
                             f"[{y.low}, {y.high}] in registry")
        for market, code in a.benchmarks.items():
            if market in b.benchmarks and b.benchmarks[market] != code:
                diffs.append(f"{part_name} benchmark for {market}: {code} in report vs {b.benchmarks[market]} in registry")
    return diffs




# --------------------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------------------

def default_registry_dir() -> Path:
    """``configs/ratings`` of the repository."""
    return REPO_ROOT / "configs" / "ratings"


class ScaleRegistry:
    """Dated broker scales from ``configs/ratings/*.yaml`` plus names and lineage (``aliases.yaml``).

    ``versions[broker]`` lists a broker's scales oldest first; ``scales[broker]`` is the newest (kept for callers
    that ignore dates). Scale lookups go through :meth:`scale_for` (by date, with the lineage of renamed brokers).
    """

    def __init__(self, scales: dict[str, RatingScale] | dict[str, list[RatingScale]],
                 aliases: dict[str, str] | BrokerBook | None = None):
        self.versions: dict[str, list[RatingScale]] = {}
        for name, value in scales.items():
            items = list(value) if isinstance(value, list) else [value]
            self.versions[name] = sorted(items, key=lambda s: s.valid_from or dt.date.min)
        self.scales: dict[str, RatingScale] = {k: v[-1] for k, v in self.versions.items() if v}
        if isinstance(aliases, BrokerBook):
            self.book = aliases
        else:
            self.book = BrokerBook()
            for alias, canonical in (aliases or {}).items():
                self.book.add_alias(alias, canonical)
        for name, items in self.versions.items():
            self.book.add_alias(name, name)
            for scale in items:
                for alias in scale.aliases:
                    self.book.add_alias(alias, name)

    def canonical(self, broker: str) -> str | None:
        """Canonical broker name for any spelling, or ``None`` when unknown."""
        return self.book.canonical(broker)

    def group(self, broker: str, date=None) -> str:
        """The entity the broker that printed a rating on ``date`` belongs to today (安信证券 → 国投证券)."""
        return self.book.group(broker, date)

    def entity(self, broker: str, date=None) -> str:
        """Who wrote a rating printed under ``broker`` on ``date`` (国泰海通 on 2024-10-28 → 国泰君安证券)."""
        return self.book.entity_at(broker, date)

    def scale_for(self, broker: str, date=None, rating: str | None = None) -> RatingScale | None:
        """The broker's scale in force on ``date`` (``None`` = newest): the version with the latest ``valid_from`` on
        or before ``date``, else the oldest one (the oldest known definitions are assumed for earlier dates). The
        writer is resolved by date (:meth:`entity`); a renamed broker without a scale of its own uses its
        predecessor's (``notes`` says so). With ``rating``, a version in force that lacks that stock rating word
        gives way to the version nearest in time that has it (the word shows which definitions the broker used;
        ``notes`` says so)."""
        day = to_date(date)
        who = self.entity(broker, day)
        for name in [who, *self.book.predecessors(who)]:
            items = self.versions.get(name)
            if not items:
                continue
            chosen = items[-1] if day is None else next(
                (s for s in reversed(items) if s.valid_from is None or s.valid_from <= day), items[0])
            chosen = self._fill_parts(chosen, items)
            if rating and day is not None and (chosen.stock is None or chosen.stock.band(rating) is None):
                having = [s for s in items if s.stock is not None and s.stock.band(rating) is not None]
                if having:
                    near = min(having, key=lambda s: abs(((s.valid_from or day) - day).days))
                    note = (f"{rating} is not a word of the version in force on {day}; definitions of the nearest "
                            f"version that has it ({near.source}, {near.as_of})")
                    chosen = near.model_copy(update={"notes": "; ".join(x for x in (near.notes, note) if x)})
            if name != who:
                note = f"{who} has no scale of its own: {name}'s (renamed to {who})"
                chosen = chosen.model_copy(update={"notes": "; ".join(x for x in (chosen.notes, note) if x)})
            return chosen
        return None

    @staticmethod
    def _fill_parts(chosen: RatingScale, items: list[RatingScale]) -> RatingScale:
        """A version that lacks its stock (or industry) part takes it from the nearest version that has one (a
        report may print only its industry definitions); ``notes`` names the source."""
        update, notes = {}, []
        at = chosen.valid_from or dt.date.min
        for part in ("stock", "industry"):
            if getattr(chosen, part) is not None:
                continue
            donors = [s for s in items if getattr(s, part) is not None]
            if not donors:
                continue
            donor = min(donors, key=lambda s: abs(((s.valid_from or dt.date.min) - at).days) if
                        s.valid_from and chosen.valid_from else 0)
            update[part] = getattr(donor, part)
            notes.append(f"{part} definitions from {donor.source} ({donor.as_of})")
        if not update:
            return chosen
        update["notes"] = "; ".join(x for x in (chosen.notes, *notes) if x)
        return chosen.model_copy(update=update)

    def get(self, broker: str) -> RatingScale | None:
        """The newest scale of ``broker`` (any spelling); see :meth:`scale_for` for a date."""
        return self.scale_for(broker, None)

    def alias_items(self) -> list[tuple[str, str]]:
        """(alias, canonical) pairs of four characters or more, longest first (平安证券(香港) before 平安证券);
        two-character short names such as 华泰 are only used by :meth:`canonical`, never to find a broker in text."""
        return [(a, c) for a, c in self.book.alias_items() if len(a) >= 4]


def _version_errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def _read_yaml(path: Path) -> object:
    """A registry file's YAML (:func:`engine.yamlfile.read_yaml_cached`: parsed once per process while the file is
    unchanged); raises ``ValueError`` naming the file when it is not valid YAML."""
    from engine.yamlfile import read_yaml_cached

    try:
        return read_yaml_cached(path) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc


def load_registry(directory: str | Path | None = None) -> ScaleRegistry:
    """Load and validate every ``*.yaml`` scale in ``directory`` (default :func:`default_registry_dir`).

    A broker file holds ``broker``, ``aliases`` and ``scales: [{valid_from, as_of, source, stock, industry,
    notes}, ...]`` (or, old format, one unversioned scale with ``stock``/``industry`` at the top). Raises
    ``ValueError`` naming the file and key when a file is invalid.
    """
    root = Path(directory) if directory is not None else default_registry_dir()
    if not root.is_dir():
        return ScaleRegistry({}, {})
    book = load_broker_book(root / "aliases.yaml")
    versions: dict[str, list[RatingScale]] = {}
    for path in sorted(root.glob("*.yaml")):
        if path.stem == "aliases":
            continue
        data = _read_yaml(path)
        if not isinstance(data, dict) or "broker" not in data:
            raise ValueError(f"{path}: expected a mapping with 'broker' and 'scales'")
        common = {"broker": data["broker"], "aliases": data.get("aliases") or []}
        raw_versions = data.get("scales")
        if raw_versions is None:
            raw_versions = [{k: v for k, v in data.items() if k not in ("broker", "aliases")}]
        if not isinstance(raw_versions, list) or not raw_versions:
            raise ValueError(f"{path}: 'scales' must be a non-empty list of dated versions")
        items = []
        for i, raw in enumerate(raw_versions):
            if not isinstance(raw, dict):
                raise ValueError(f"{path}: scales[{i}] must be a mapping")
            try:
                scale = RatingScale.model_validate({**common, **raw, "source": raw.get("source") or
                                                    f"registry:{path.name}"})
            except ValidationError as exc:
                prefix = f"scales[{i}]." if data.get("scales") is not None else ""
                raise ValueError(f"{path}: invalid rating scale: {prefix}{_version_errors(exc)}") from exc
            items.append(scale)
        versions.setdefault(str(data["broker"]), []).extend(items)
    return ScaleRegistry(versions, book)


def _band_yaml(band: RatingBand) -> list:
    return [band.low, band.high] if band.text is None else [band.low, band.high, band.text]


def scale_to_yaml(scale: RatingScale) -> dict:
    """A registry ``scales:`` entry for ``scale`` (plain types, bands as ``{rating: [low, high(, text)]}``)."""
    out: dict = {}
    for key in ("valid_from", "as_of"):
        value = getattr(scale, key)
        if value is not None:
            out[key] = value.isoformat()
    out["source"] = scale.source
    if scale.notes:
        out["notes"] = scale.notes
    for name in ("stock", "industry"):
        part = getattr(scale, name)
        if part is None:
            continue
        entry: dict = {"horizon_months": part.horizon_months, "scale_type": part.scale_type,
                       "benchmarks": dict(part.benchmarks), "benchmarks_promised": dict(part.benchmarks_promised),
                       "bands": {b.rating: _band_yaml(b) for b in part.bands}}
        out[name] = entry
    return out
