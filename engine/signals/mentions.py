"""Stocks named as worth watching (建议关注 …) in report text: *mentions*, which carry no rating of their own.

Recognised list forms (the list runs from the keyword to the end of the sentence or line):

- with codes: ``建议关注万兴科技（300624.SZ）、因赛集团（300781.SZ）`` (seed 004);
- bracketed names: ``建议关注: 【恒玄科技】、【思特威】`` (seed 001);
- plain names, optionally grouped: ``建议关注：1) 算力芯片：中芯国际、海光信息、沐曦技术（未上市）；2) 服务器：…`` (seed 002);
- a bare ``…景嘉微…有望实现快速成长，建议关注。``: the names of the report's own stock tables found earlier in the
  same paragraph (seed 000).

Not mentions: lists of sectors (``建议关注以下赛道``, ``…传媒、游戏等行业``), text after the disclaimer starts, and
items that do not look like company names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.symbols import SymbolError, normalize_symbol

__all__ = ["MentionItem", "find_mentions"]

_KEYWORD_RE = re.compile(r"建议重点关注|建议积极关注|建议关注|推荐关注|受益标的|相关标的|核心标的|推荐标的|关注标的")
_CODE = r"\d{6}(?:\s*\.\s*(?:SH|SZ|BJ))?|\d{1,5}\s*\.?\s*HK"
_PAIR_RE = re.compile(rf"([^\s、，,；;：:（()）【】“”\"]{{2,14}}?)\s*[（(]\s*({_CODE})\s*[)）]", re.IGNORECASE)
_BRACKET_RE = re.compile(r"【([^【】\n]{2,14})】")
_SECTOR_END_RE = re.compile(r"(?:行业|板块|赛道|方向|领域|环节|产业链|主线|概念)[。；;，,]?\s*$")
_SECTOR_START_RE = re.compile(r"^\s*[:：]?\s*(?:以下|如下|下列)")
_NAME_RE = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9*·\-]{2,12}$")
_GENERIC = {"公司", "个股", "标的", "龙头", "相关公司", "产业链", "龙头公司", "相关标的", "等", "优质公司"}
_UNLISTED_RE = re.compile(r"[（(]\s*(?:未上市|非上市|拟上市|未上市公司)\s*[)）]")


@dataclass
class MentionItem:
    """A name (as printed) with its code when the text gives one; ``unlisted`` when marked 未上市."""

    name: str
    code: str | None
    unlisted: bool = False


def _clean_item(item: str) -> tuple[str, bool]:
    unlisted = bool(_UNLISTED_RE.search(item))
    text = _UNLISTED_RE.sub("", item)
    text = re.sub(r"^\s*\d+\s*[)）.、]\s*", "", text)
    if "：" in text or ":" in text:
        text = re.split(r"[:：]", text)[-1]
    text = text.strip().strip("。．.、，,；;*【】 ")
    text = re.sub(r"等$", "", text).strip()
    return text, unlisted


def _plausible(name: str) -> bool:
    if not _NAME_RE.match(name) or name in _GENERIC:
        return False
    if "的" in name or name.isdigit():
        return False
    return True


def _segment_items(segment: str) -> list[MentionItem]:
    """Items of one list: ``名称（代码）`` pairs, ``【名称】`` and plain names may be mixed."""
    if _SECTOR_END_RE.search(segment) and not _PAIR_RE.search(segment) and not _BRACKET_RE.search(segment):
        return []
    out = []
    for raw in re.split(r"[、，,；;]", segment):
        pair = _PAIR_RE.search(raw)
        if pair:
            name = _clean_item(pair.group(1))[0]
            try:
                code = normalize_symbol(pair.group(2))
            except SymbolError:
                code = None
            if name:
                out.append(MentionItem(name=name, code=code))
            continue
        brackets = _BRACKET_RE.findall(raw)
        if brackets:
            out.extend(MentionItem(name=b.strip(), code=None) for b in brackets if _plausible(b.strip()))
            continue
        name, unlisted = _clean_item(raw)
        if _plausible(name) and len(name) <= 8:
            out.append(MentionItem(name=name, code=None, unlisted=unlisted))
    return out


def find_mentions(body: str, table_names: list[str]) -> list[MentionItem]:
    """Every mentioned stock in ``body`` (the text before the disclaimer), in order, without duplicates."""
    found: list[MentionItem] = []
    seen: set[str] = set()
    for m in _KEYWORD_RE.finditer(body):
        end_candidates = [pos for pos in (body.find("。", m.end()), body.find("\n", m.end())) if pos != -1]
        end = min(end_candidates) if end_candidates else len(body)
        segment = body[m.end(): end]
        if _SECTOR_START_RE.match(segment):
            continue
        items = _segment_items(segment) if segment.strip(" :：") else []
        if not segment.strip(" :：。"):
            para_start = body.rfind("\n", 0, m.start()) + 1
            para = body[para_start: m.start()]
            items = [MentionItem(name=n, code=None) for n in table_names if n and n in para]
        for item in items:
            key = item.code or item.name
            if key in seen:
                continue
            seen.add(key)
            found.append(item)
    return found
