"""Broker names: aliases, and the lineage of renamed and merged brokers by date.

Read from ``configs/ratings/aliases.yaml``::

    aliases:                       # canonical name: [other spellings]
      华泰证券: [华泰, 华泰证券研究所]
    lineage:                       # one event each; date = first day the new name applies (ISO)
      - {old: 安信证券, new: 国投证券, date: 2024-01-02, kind: renamed}
      - {old: 海通证券, new: 国泰海通证券, date: 2025-03-14, kind: merged}

``renamed``: the same legal entity under a new name, so a rating printed under the *new* name before ``date`` (data
vendors relabel old reports with today's name) was written by the *old* one. ``merged``: ``old`` was absorbed into
``new`` on ``date``. Three questions are answered by date:

- :meth:`BrokerBook.entity_at` — who wrote a rating printed under ``name`` on ``date`` (国泰海通 on 2024-10-28 →
  国泰君安证券);
- :meth:`BrokerBook.group` — the entity that writer belongs to today (安信证券 → 国投证券, 民生证券 → 国联民生证券);
- :meth:`BrokerBook.predecessors` — whose definitions a renamed broker inherited (used when it has no scale of its own).

A file in the old flat format (``canonical: [aliases]`` at the top level) is read as the ``aliases`` mapping.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from engine.yamlfile import parse_yaml

__all__ = ["Link", "BrokerBook", "normalize_broker_text", "load_broker_book", "detect_broker_name", "to_date",
           "fill_broker_group"]

_KINDS = ("renamed", "merged")


def normalize_broker_text(text: str) -> str:
    """Full-width brackets and spaces → ASCII, spaces removed: ``平安证券（香港）`` == ``平安证券(香港)``."""
    return str(text).replace("（", "(").replace("）", ")").replace("\u3000", " ").replace(" ", "").strip()


def to_date(value) -> dt.date | None:
    """A date from ``YYYY-MM-DD`` text, a ``date``/``datetime``/``Timestamp``; ``None`` for empty or NaT."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    ts = pd.to_datetime(value, errors="coerce")
    return None if pd.isna(ts) else ts.date()


@dataclass(frozen=True)
class Link:
    """One lineage event: ``old`` became (renamed) or joined (merged) ``new`` on ``date``."""

    old: str
    new: str
    date: dt.date
    kind: str
    note: str = ""


@dataclass
class BrokerBook:
    """Aliases (spelling → canonical) and lineage links."""

    aliases: dict[str, str] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)

    def add_alias(self, alias: str, canonical: str) -> None:
        self.aliases.setdefault(normalize_broker_text(alias), canonical)

    def canonical(self, name: str) -> str | None:
        """Canonical name for any spelling, or ``None`` when unknown."""
        return self.aliases.get(normalize_broker_text(name))

    def entity_at(self, name: str, date) -> str:
        """Who wrote a rating printed as ``name`` on ``date`` (canonical; ``name`` itself when unknown)."""
        current = self.canonical(name) or normalize_broker_text(name)
        day = to_date(date)
        if day is None:
            return current
        for _ in range(8):
            back = [ln for ln in self.links if ln.new == current and ln.kind == "renamed" and day < ln.date]
            if not back:
                break
            current = max(back, key=lambda ln: ln.date).old
        return current

    def group(self, name: str, date=None) -> str:
        """The entity the writer of ``name``'s rating on ``date`` belongs to today (follows every later link)."""
        current = self.entity_at(name, date)
        for _ in range(8):
            forward = [ln for ln in self.links if ln.old == current]
            if not forward:
                break
            current = forward[0].new
        return current

    def predecessors(self, name: str) -> list[str]:
        """Names ``name`` was renamed from, newest first (whose scale it inherits when it has none)."""
        out: list[str] = []
        current = self.canonical(name) or normalize_broker_text(name)
        for _ in range(8):
            back = [ln for ln in self.links if ln.new == current and ln.kind == "renamed"]
            if not back:
                break
            current = max(back, key=lambda ln: ln.date).old
            out.append(current)
        return out

    def link_for(self, old: str) -> Link | None:
        return next((ln for ln in self.links if ln.old == old), None)

    def alias_items(self) -> list[tuple[str, str]]:
        """(alias, canonical) pairs, longest alias first (so 平安证券(香港) wins over 平安证券)."""
        return sorted(self.aliases.items(), key=lambda kv: len(kv[0]), reverse=True)


def load_broker_book(path: str | Path) -> BrokerBook:
    """Read ``aliases.yaml`` (module docstring). Raises ``ValueError`` naming the file and key when invalid."""
    path = Path(path)
    book = BrokerBook()
    if not path.is_file():
        return book
    try:
        data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with keys 'aliases' and 'lineage'")
    if "aliases" not in data and "lineage" not in data:
        data = {"aliases": data}
    aliases = data.get("aliases") or {}
    if not isinstance(aliases, dict):
        raise ValueError(f"{path}: 'aliases' must map a canonical broker to a list of spellings")
    for canonical, names in aliases.items():
        if not isinstance(names, list):
            raise ValueError(f"{path}: aliases.{canonical} must be a list of spellings, got {names!r}")
        book.add_alias(str(canonical), str(canonical))
        for alias in names:
            book.add_alias(str(alias), str(canonical))
    for i, raw in enumerate(data.get("lineage") or []):
        where = f"{path}: lineage[{i}]"
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: expected a mapping with old, new, date, kind")
        missing = [k for k in ("old", "new", "date", "kind") if k not in raw]
        if missing:
            raise ValueError(f"{where}: missing key(s) {', '.join(missing)}")
        if raw["kind"] not in _KINDS:
            raise ValueError(f"{where}: kind {raw['kind']!r} not one of {', '.join(_KINDS)}")
        day = to_date(raw["date"])
        if day is None:
            raise ValueError(f"{where}: date {raw['date']!r} is not a date (YYYY-MM-DD)")
        link = Link(str(raw["old"]), str(raw["new"]), day, str(raw["kind"]), str(raw.get("note", "")))
        book.links.append(link)
        for name in (link.old, link.new):
            book.add_alias(name, name)
    return book


_NOT_BROKER_RE = re.compile(r"[\u4e00-\u9fff]{2}证券(?:交易所|时报|日报|报|业协会|登记结算|市场|投资咨询业务|分析师)")
_GENERIC_RE = re.compile(r"([\u4e00-\u9fff]{2,4}(?:证券|国际))(?:\([\u4e00-\u9fff]{2}\))?"
                         r"(?:股份有限公司|有限责任公司|有限公司|研究所|研究院|研究部|研究发展中心|经济研究所)")


#: the report's owner, not a broker merely named (an analyst's former employer, a quoted peer)
_OWNER_RE = (r"(?:本报告(?:仅供|由|版权(?:均|仅)?(?:归|属于|为)?)|版权(?:均|仅)?(?:归|属于|为)|请务必阅读|如引用.{{0,8}}出处为)“?{0}"
             r"|{0}(?:股份有限公司|有限责任公司|有限公司)?[(（]以下简称")


def detect_broker_name(text: str, book: BrokerBook) -> str:
    """The broker a report names most often in its last 40 % (disclaimer, 评级说明, addresses — former employers
    in analysts' bios and peers quoted in the body count less there), known spellings first, then
    ``XX证券股份有限公司``; the whole text when the tail names none; ``""`` when no broker is named."""
    norm_all = _NOT_BROKER_RE.sub("", normalize_broker_text(text))
    for norm in (norm_all[int(len(norm_all) * 0.6):], norm_all):
        counts: Counter[str] = Counter()
        for alias, canonical in book.alias_items():
            if len(alias) >= 4 and alias in norm:
                counts[canonical] += norm.count(alias)
                counts[canonical] += 10 * len(re.findall(_OWNER_RE.format(re.escape(alias)), norm))
                norm = norm.replace(alias, "")
        if counts:
            return counts.most_common(1)[0][0]
        found = [m.group(1)[-4:] if len(m.group(1)) > 4 else m.group(1) for m in _GENERIC_RE.finditer(norm)]
        if found:
            return Counter(found).most_common(1)[0][0]
    return ""


def fill_broker_group(signals: pd.DataFrame, registry) -> pd.DataFrame:
    """Set ``broker_group`` of every row to today's entity of its broker on its date (``registry.group``).

    The one place the column is filled, for reports and structured sources alike; rows with an empty broker keep
    an empty group. Returns ``signals`` (modified in place when it has rows).
    """
    if not len(signals):
        return signals
    keys = pd.MultiIndex.from_arrays([signals["broker"].astype(str),
                                      pd.to_datetime(signals["report_date"], errors="coerce")])
    codes, uniques = pd.factorize(keys)
    groups = [registry.group(b, None if pd.isna(d) else d) if b else "" for b, d in uniques]
    signals["broker_group"] = [groups[c] if c >= 0 else "" for c in codes]
    return signals
