"""Broker rating scales: what each rating word promises, read from a report's 评级说明 or from the registry.

A scale has a *stock* part and an *industry* part. Each part holds

- ``horizon_months``: ``"12"`` or a range ``"6-12"`` (a string so the range survives CSV round trips);
- ``benchmarks``: market → benchmark code (``{"A": "000300.SH", "HK": "HSI"}``; other markets by name);
- ``bands``: the ratings, best first, each with the promised excess return over the benchmark as *fractions*
  (``low``/``high``; ``None`` = open end; both ``None`` = the scale makes no numeric promise, e.g. "in line").

``rating_level`` maps a rating to +2 … −2 by its position: the first (most bullish) tier is +2, the last (most
bearish) −2, the neutral tier (the one whose band contains 0, or named 中性/持有/同步大市) is 0, tiers between top and
neutral +1 and between neutral and bottom −1. A 4-tier scale 推荐/谨慎推荐/中性/回避 gives +2/+1/0/−2.

The registry is a folder of YAML files (``configs/ratings/<broker>.yaml``) plus ``aliases.yaml``; see the README.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.paths import REPO_ROOT

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
]

#: Rating words seen across Chinese brokers (stock and industry), longest first when used in a regex.
RATING_WORDS: tuple[str, ...] = (
    "强烈推荐", "谨慎推荐", "审慎推荐", "推荐", "强烈买入", "谨慎买入", "买入", "谨慎增持", "增持", "持有", "中性",
    "减持", "卖出", "回避", "强于大市", "同步大市", "弱于大市", "优于大市", "领先大市", "落后大市", "跑赢大市",
    "跑输大市", "跑赢行业", "同步行业", "跑输行业", "看好", "看淡", "超配", "标配", "低配", "观望", "沽出",
    "无评级", "未评级",
)
_UNRATED_WORDS = ("无评级", "未评级", "/", "-", "—", "NA", "N/A", "暂无评级", "不评级")
_NEUTRAL_NAMES = ("中性", "持有", "同步大市", "同步行业", "标配")

_BENCHMARK_NAMES: list[tuple[str, str]] = [
    (r"沪深\s*300", "000300.SH"), (r"恒生指数", "HSI"), (r"纳斯达克", "NASDAQ"), (r"标普\s*500", "SPX"),
    (r"三板成指|三板做市", "三板成指"), (r"中证\s*500", "000905.SH"), (r"创业板指", "399006.SZ"),
    (r"上证综指|上证指数", "000001.SH"),
]


def normalize_broker_text(text: str) -> str:
    """Full-width brackets and spaces → ASCII, so ``平安证券（香港）`` and ``平安证券(香港)`` compare equal."""
    return text.replace("（", "(").replace("）", ")").replace("\u3000", " ").replace(" ", "").strip()


class RatingBand(BaseModel):
    """One tier: the rating word and its promised excess return band (fractions; ``None`` = open end)."""

    model_config = ConfigDict(extra="forbid")
    rating: str
    low: float | None = None
    high: float | None = None

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
    bands: list[RatingBand] = Field(default_factory=list)

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

    def benchmark_for(self, market: str) -> str | None:
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
    """A broker's scale. ``source`` says where it came from (``report`` or the registry file)."""

    model_config = ConfigDict(extra="forbid")
    broker: str
    aliases: list[str] = Field(default_factory=list)
    source: str = ""
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
                if not isinstance(edges, (list, tuple)) or len(edges) != 2:
                    raise ValueError(f"bands.{name} must be [low, high] (fractions, null = open end), got {edges!r}")
                rows.append({"rating": str(name), "low": edges[0], "high": edges[1]})
            v["bands"] = rows
        return v


# --------------------------------------------------------------------------------------------------------------
# Parsing a report's own 评级说明
# --------------------------------------------------------------------------------------------------------------

_RATING_RE = "|".join(sorted((re.escape(w) for w in RATING_WORDS), key=len, reverse=True))
_UP = ("涨幅", "强于", "优于", "超越", "超过", "领先", "高于", "跑赢", "超出", "好于")
_DOWN = ("跌幅", "弱于", "落后", "低于", "跑输", "逊于", "差于")
_FLAT = ("持平", "跟随", "同步", "相当", "介于", "之间", "±", "+/-", "涨跌幅", "相若")
_DESC_HINT_RE = re.compile(r"指数|基准|大市|市场|沪深|恒生|标普|纳斯达克|行业")
_NUM = r"[+\-−－]?\d+(?:\.\d+)?"
_RANGE_RE = re.compile(rf"({_NUM})\s*%?\s*(?:-|~|～|至|到|—|－)\s*({_NUM})\s*%")
_PM_RE = re.compile(r"(?:±|\+/-)\s*(\d+(?:\.\d+)?)\s*%")
_PCT_RE = re.compile(rf"({_NUM})\s*%")
_HORIZON_RE = re.compile(r"(\d{1,2})\s*(?:(?:-|~|～|至|到|—)\s*(\d{1,2})\s*)?个\s*月")
_INDUSTRY_MARK_RE = re.compile(r"行业(?:投资)?评级|行业的投资评级")
_STOCK_MARK_RE = re.compile(r"(?:股票|公司|个股)(?:投资)?评级")


def _num(text: str) -> float:
    return float(text.replace("−", "-").replace("－", "-").replace("+", ""))


def parse_band_text(desc: str) -> tuple[float | None, float | None] | None:
    """Read a band description into ``(low, high)`` fractions; ``None`` when it is not a band description.

    Examples: ``相对基准指数涨幅 15%以上`` → (0.15, None); ``涨幅 5% ~ 15%之间`` → (0.05, 0.15);
    ``介于基准指数±5%之间`` → (−0.05, 0.05); ``跌幅 5%以上`` → (None, −0.05); ``跌幅在-10%至-5%之间`` →
    (−0.10, −0.05); ``相对表现优于同期基准指数`` → (0.0, None); ``行业指数跟随沪深300指数`` → (None, None).
    """
    text = desc.replace("％", "%").replace("＋", "+")
    flat = any(w in text for w in _FLAT)
    up = any(w in text for w in _UP) and "涨跌幅" not in text
    down = any(w in text for w in _DOWN)
    m = _PM_RE.search(text)
    if m:
        x = _num(m.group(1)) / 100
        return (-x, x)
    m = _RANGE_RE.search(text)
    if m:
        a, b = _num(m.group(1)) / 100, _num(m.group(2)) / 100
        if down and not up and a >= 0 and b >= 0:
            a, b = -a, -b
        return (min(a, b), max(a, b))
    m = _PCT_RE.search(text)
    if m:
        x = _num(m.group(1)) / 100
        below = "以下" in text or "以内" in text or "不足" in text
        if down and not up:
            return (None, -abs(x)) if not below else (-abs(x), None)
        if below:
            return (None, x)
        return (x, None)
    if down and not up:
        return (None, 0.0)
    if up and not down:
        return (0.0, None)
    if flat:
        return (None, None)
    return None


def _horizon_in(text: str) -> str | None:
    m = _HORIZON_RE.search(text)
    if not m:
        return None
    return m.group(1) if not m.group(2) else f"{m.group(1)}-{m.group(2)}"


def _benchmarks_in(text: str) -> dict[str, str]:
    """Market → benchmark from sentences like ``A 股以沪深 300 指数为基准；港股以恒生指数为基准``."""
    out: dict[str, str] = {}
    compact = text.replace(" ", "")
    for market, pat in (("A", r"A股(?:市场)?以"), ("HK", r"港股(?:市场)?以"), ("US", r"美股(?:市场)?以"),
                        ("NEEQ", r"新三板(?:市场)?以")):
        m = re.search(pat + r"(.{0,20}?)为", compact)
        if m:
            found = [(hit.start(), code) for name_re, code in _BENCHMARK_NAMES
                     for hit in [re.search(name_re, m.group(1))] if hit]
            if found:
                out[market] = min(found)[1]
    if not out:
        names = [code for name_re, code in _BENCHMARK_NAMES if re.search(name_re, compact)]
        if names == ["HSI"]:
            out["HK"] = "HSI"
        elif names == ["000300.SH"]:
            out["A"] = "000300.SH"
    return out


@dataclass
class _Collect:
    horizon: str | None = None
    bands: list[RatingBand] = field(default_factory=list)


_RATING_FULL_RE = re.compile(_RATING_RE)
_BAND_LINE_RE = re.compile(rf"^(.*?)(?:^|\s)({_RATING_RE})\s*[:：]?\s+(.+)$")
#: a line can only define a band, a part marker or a horizon when it holds one of these
_QUICK_RE = re.compile(r"指数|基准|大市|%|％|评级|个\s*月|市场")


def _band_line(line: str) -> tuple[str, str, str] | None:
    """Split a line into (prefix, rating word, description) when it defines a rating band."""
    cells = [c.strip() for c in line.split("\t")]
    if len(cells) >= 2:
        for i, cell in enumerate(cells[:-1]):
            word = cell.strip(" ：:*")
            if _RATING_FULL_RE.fullmatch(word):
                desc = " ".join(c for c in cells[i + 1:] if c)
                if _DESC_HINT_RE.search(desc) or "%" in desc:
                    return "\t".join(cells[:i]), word, desc
    m = _BAND_LINE_RE.match(line.strip())
    if m and (_DESC_HINT_RE.search(m.group(3)) or "%" in m.group(3)):
        return m.group(1), m.group(2), m.group(3)
    return None


def parse_scale_section(text: str) -> RatingScale | None:
    """Parse the report's own rating definitions (评级说明) into a :class:`RatingScale` (``source="report"``).

    Returns ``None`` when the text defines no rating bands. ``broker`` is left empty; the caller sets it.
    Lines defining a band look like ``推荐\\t相对基准指数涨幅 15%以上`` (tab-separated cells, as extracted from
    the PDF table) or ``买入 股价表现将强于基准指数 20%以上``; a ``行业评级`` / ``股票评级`` marker before the
    rating switches between the industry and stock parts. Horizons come from the band line, its marker line or
    the sentence that introduces the table; industry horizon defaults to the stock horizon.
    """
    lines = text.splitlines()
    parts = {"stock": _Collect(), "industry": _Collect()}
    context = "stock"
    first_band, last_band = None, None
    global_horizon = None
    recent_horizon: str | None = None
    for idx, raw in enumerate(lines):
        line = raw.strip()
        if not line or not _QUICK_RE.search(line):
            continue
        parsed = _band_line(line)
        probe = parsed[0] if parsed else line
        marks = [(m.start(), "industry") for m in _INDUSTRY_MARK_RE.finditer(probe)]
        marks += [(m.start(), "stock") for m in _STOCK_MARK_RE.finditer(probe)]
        if marks:
            new_context = max(marks)[1]
            if new_context != context:
                recent_horizon = None
            context = new_context
        h = _horizon_in(line)
        if h and ("评级" in line or "基准" in line or "指数" in line or parsed):
            recent_horizon = h
            if global_horizon is None and parsed is None and ("评级" in line):
                global_horizon = h
        if parsed is None:
            continue
        _, word, desc = parsed
        if word in _UNRATED_WORDS:
            continue
        band = parse_band_text(desc)
        if band is None:
            continue
        part = parts[context]
        if part.bands and word in [b.rating for b in part.bands]:
            continue
        try:
            part.bands.append(RatingBand(rating=word, low=band[0], high=band[1]))
        except ValidationError:
            continue  # an implausible edge (e.g. a mangled "515%"): not a rating definition line
        if part.horizon is None:
            part.horizon = _horizon_in(desc) or recent_horizon
        first_band = idx if first_band is None else first_band
        last_band = idx
    if first_band is None:
        return None
    window = "\n".join(lines[max(0, first_band - 8): last_band + 8])
    benchmarks = _benchmarks_in(window)
    stock = parts["stock"]
    industry = parts["industry"]
    stock_h = stock.horizon or global_horizon
    industry_h = industry.horizon or stock_h
    return RatingScale(
        broker="",
        source="report",
        stock=ScalePart(horizon_months=stock_h, benchmarks=benchmarks, bands=stock.bands) if stock.bands else None,
        industry=ScalePart(horizon_months=industry_h, benchmarks=benchmarks, bands=industry.bands)
        if industry.bands else None,
    )


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
    """Broker scales from ``configs/ratings/*.yaml`` and broker-name aliases (``aliases.yaml``)."""

    def __init__(self, scales: dict[str, RatingScale], aliases: dict[str, str]):
        self.scales = scales
        self._aliases = {normalize_broker_text(k): v for k, v in aliases.items()}
        for name, scale in scales.items():
            self._aliases.setdefault(normalize_broker_text(name), name)
            for alias in scale.aliases:
                self._aliases.setdefault(normalize_broker_text(alias), name)

    def canonical(self, broker: str) -> str | None:
        """Canonical broker name for any alias, or ``None`` when unknown."""
        return self._aliases.get(normalize_broker_text(broker))

    def get(self, broker: str) -> RatingScale | None:
        name = self.canonical(broker)
        return self.scales.get(name) if name else None

    def alias_items(self) -> list[tuple[str, str]]:
        """(alias, canonical) pairs, longest alias first (so 平安证券(香港) wins over 平安证券)."""
        return sorted(self._aliases.items(), key=lambda kv: len(kv[0]), reverse=True)


def load_registry(directory: str | Path | None = None) -> ScaleRegistry:
    """Load and validate every ``*.yaml`` scale in ``directory`` (default :func:`default_registry_dir`).

    Raises ``ValueError`` naming the file and key when a file is invalid. ``aliases.yaml`` maps a canonical broker
    name to a list of other spellings.
    """
    root = Path(directory) if directory is not None else default_registry_dir()
    scales: dict[str, RatingScale] = {}
    aliases: dict[str, str] = {}
    if not root.is_dir():
        return ScaleRegistry({}, {})
    for path in sorted(root.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML: {exc}") from exc
        if path.stem == "aliases":
            if not isinstance(data, dict):
                raise ValueError(f"{path}: expected a mapping 'canonical broker: [alias, ...]'")
            for canonical, names in data.items():
                if not isinstance(names, list):
                    raise ValueError(f"{path}: key {canonical!r} must map to a list of aliases, got {names!r}")
                for alias in names:
                    aliases[str(alias)] = str(canonical)
            continue
        try:
            scale = RatingScale.model_validate({**data, "source": f"registry:{path.name}"})
        except ValidationError as exc:
            errors = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"{path}: invalid rating scale: {errors}") from exc
        scales[scale.broker] = scale
    return ScaleRegistry(scales, aliases)
