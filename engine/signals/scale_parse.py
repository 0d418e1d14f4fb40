"""Reading a report's own rating definitions (评级说明) into a :class:`~engine.signals.scales.RatingScale`.

Works on text with line structure and on text with every whitespace stripped (a PDF extractor's output with the
spaces and newlines removed): the section is located by its anchors (评级说明, 评级标准, 评级体系, 评级定义, 投资评级
…), whitespace is removed, and the section is cut into ``rating word + description`` segments. A segment is a band
when its description reads as one (:func:`parse_band_text`): numbers such as ``涨幅20％以上`` or ``5%～15%之间``
become ``(low, high)`` fractions; verbal promises such as ``行业指数领先沪深300`` become ``(0, None)``, ``(None,
None)`` or ``(None, 0)`` with the words kept in ``RatingBand.text``.

Each band goes to the stock or the industry part by its own words (``股价``/``个股``/``公司`` → stock, ``行业`` →
industry) or else by the last ``行业评级`` / ``股票评级`` marker before it. Horizons (``6个月``, ``6~12个月``,
``未来半年``, ``一年``) and benchmarks per market (沪深300 → ``000300.SH``, 上证综指 → ``000001.SH``, 恒生指数 →
``HSI`` …) are read from the section; the benchmark as printed is kept in ``benchmarks_promised``. Scales against
the analyst's coverage universe or the stock's industry index are ``scale_type="coverage"`` (no code), scales on the
stock's own return (upside vs the current price) ``"absolute"`` (no code), and an unnamed market index (``大盘``,
``市场指数``) is scored against CSI 300 with a note.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from engine.signals.scales import RATING_WORDS, RatingBand, RatingScale, ScalePart

__all__ = ["parse_scale_section", "parse_band_text", "find_scale_windows", "parse_horizon", "BENCHMARK_NAMES"]

_RATING_RE = re.compile("|".join(sorted((re.escape(w) for w in RATING_WORDS), key=len, reverse=True)))
_UNRATED = {"无评级", "未评级", "暂无评级", "不评级", "未有评级", "暂停评级"}
_UP = ("涨幅", "强于", "优于", "超越", "超过", "超出", "领先", "高于", "跑赢", "好于", "上涨", "大于", "超配")
_DOWN = ("跌幅", "弱于", "落后", "低于", "跑输", "逊于", "差于", "劣于", "下跌", "小于")
_FLAT = ("持平", "跟随", "同步", "相当", "介于", "之间", "±", "+/-", "涨跌幅", "相若", "一致", "波动")
_UP_STRONG = ("强于", "优于", "超越", "超过", "超出", "领先", "高于", "跑赢", "好于", "大于", "超配")
_DOWN_STRONG = ("弱于", "落后", "低于", "跑输", "逊于", "差于", "劣于", "小于")
_BELOW_WORDS = ("以下", "以内", "不足", "小于", "低于")
_NUM = r"[+\-−－]?\d+(?:\.\d+)?"
_RANGE_RE = re.compile(rf"({_NUM})%?(?:-|~|～|至|到|—|－|–|与|和)({_NUM})%")
_PM_RE = re.compile(r"(?:±|\+/-|\+/−)(\d+(?:\.\d+)?)%")
_PCT_RE = re.compile(rf"({_NUM})%")
_HINT_RE = re.compile(r"指数|基准|大市|大盘|市场|沪深|恒生|同期|表现|回报|收益|股价|涨幅|跌幅|涨跌|上涨|下跌|平均|变动|幅度|波动|MSCI|优于|劣于|超越|领先|落后|强于|弱于")
_STOCK_DESC_RE = re.compile(r"股价|个股|公司|股票价格|该股")
_INDUSTRY_DESC_RE = re.compile(r"行业")
_INDUSTRY_MARK_RE = re.compile(r"行业(?:投资)?评级|行业评级体系|行业的投资评级|行业评级标准|行业评级定义")
_STOCK_MARK_RE = re.compile(r"(?:股票|公司|个股|证券)(?:投资)?评级|公司评级体系|(?<!体系)收益评级")
_ANCHOR_RE = re.compile(r"评级说明|评级标准|评级体系|评级定义|评级的说明|投资评级|评级规则|评级的比较")
_CUT_RE = re.compile(r"[；;。]|免责|法律声明|分析师声明|重要声明|一般声明|特别声明|风险提示|分析师承诺|信息披露|"
                     r"行业(?:投资)?评级|(?:股票|公司|个股)(?:投资)?评级|评级说明|评级体系|评级标准|评级定义")
_EITHER_WAY_RE = re.compile(r"(?:优于|高于|强于|超过|跑赢)[/或](?:劣于|低于|弱于|落后|跑输)")
_QUOTED_DEF_RE = re.compile(r"[”\"][:：]")  # “买入”：definition
_GLYPH_RE = re.compile(r"[\u00a2-\u00b0\u00b2-\u00ff\ufffd]")
_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "六": 6, "九": 9, "十二": 12, "十八": 18, "二十四": 24}

#: Benchmark names as printed → canonical code ("" = an index we cannot name a code for). Longest first.
BENCHMARK_NAMES: list[tuple[str, str, str]] = [
    # (regex, code, market of the index)
    (r"沪深300|沪深三百|CSI300", "000300.SH", "A"),
    (r"上证综指|上证综合指数|上证指数|上证综合", "000001.SH", "A"),
    (r"深证成指|深圳成指|深证成份指数|深圳成份指数", "399001.SZ", "A"),
    (r"深证综指|深圳综指", "399106.SZ", "A"),
    (r"创业板指|创业板综指|创业板指数", "399006.SZ", "A"),
    (r"中证500", "000905.SH", "A"),
    (r"中小板指|中小板综指", "399005.SZ", "A"),
    (r"恒生中国企业指数|恒生国企指数|国企指数", "HSCEI", "HK"),
    (r"恒生综合指数", "HSCI", "HK"),
    (r"恒生指数", "HSI", "HK"),
    (r"MSCI中国指数|摩根士丹利中国指数|MSCIChina", "MSCI China", "HK"),
    (r"纳斯达克综合指数|纳斯达克指数|纳斯达克", "NASDAQ", "US"),
    (r"标普500|标准普尔500", "SPX", "US"),
    (r"三板成指|三板做市指数|三板做市", "三板成指", "NEEQ"),
    (r"海通综指", "", "A"),
]
_BENCH_RE = re.compile("|".join(f"(?:{p})" for p, _, _ in BENCHMARK_NAMES))
_MARKET_WORDS = [("A", r"A股|沪深市场|沪深两市|深沪|境内|内地|国内|沪深|A股市场"), ("HK", r"港股|香港"),
                 ("US", r"美股|美国"), ("NEEQ", r"新三板|三板市场|北交所")]
_UNNAMED_RE = re.compile(r"大盘|市场指数|市场基准|市场表现|相关证券市场代表性指数|大市")
_COVERAGE_RE = re.compile(r"覆盖(?:的)?(?:股票|公司|范围)|所覆盖|coverage", re.I)
_INDUSTRY_BENCH_RE = re.compile(r"所属(?:的)?行业指数|所属行业|行业指数的")


def _num(text: str) -> float:
    return float(text.replace("−", "-").replace("－", "-").replace("+", ""))


def _clean(text: str) -> str:
    """Full-width to ASCII for digits and signs, every whitespace removed."""
    table = str.maketrans("０１２３４５６７８９％＋．～：", "0123456789%+.~:")
    return re.sub(r"\s+", "", text.translate(table))


def parse_band_text(desc: str) -> tuple[float | None, float | None] | None:
    """Read a band description into ``(low, high)`` fractions; ``None`` when it is not a band description.

    Only the description's first numeric promise counts (the text after it is cut eight characters on), so a
    run-together tail does not leak in. Examples: ``相对基准指数涨幅 15%以上`` → (0.15, None); ``涨幅 5% ~ 15%之间``
    → (0.05, 0.15); ``介于基准指数±5%之间`` → (−0.05, 0.05); ``跌幅 5%以上`` → (None, −0.05); ``涨幅介于-10%与10%之间``
    → (−0.10, 0.10); ``相对表现优于同期基准指数`` → (0.0, None); ``行业指数跟随沪深300指数`` → (None, None).
    """
    text = _clean(desc)
    hits = [m for m in (_PM_RE.search(text), _RANGE_RE.search(text), _PCT_RE.search(text)) if m]
    if hits:
        first = min(hits, key=lambda m: (m.start(), -len(m.group(0))))
        text = text[:first.end() + 8]
    flat = any(w in text for w in _FLAT)
    core = text.replace("涨跌幅", "").replace("涨跌", "")
    first_up = min((core.find(w) for w in _UP_STRONG if w in core), default=-1)
    first_down = min((core.find(w) for w in _DOWN_STRONG if w in core), default=-1)
    up, down = first_up >= 0, first_down >= 0
    if up and down:  # "弱于上证指数达到或超过15%": the first comparator is the promise
        up, down = first_up < first_down, first_down < first_up
    if not up and not down:  # no comparator: the direction of the move itself (涨幅 / 跌幅)
        up = any(w in core for w in _UP)
        down = any(w in core for w in _DOWN)
    m = _PM_RE.search(text)
    if m:
        x = _num(m.group(1)) / 100
        return (-x, x)
    if _EITHER_WAY_RE.search(text) and (m := _PCT_RE.search(text)) and not _RANGE_RE.search(text):
        x = abs(_num(m.group(1))) / 100  # "优于/劣于MSCI中国少于10%": within ±x
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
        tail = text[m.end():m.end() + 6]
        below = any(w in tail for w in _BELOW_WORDS) or any(w in text[:m.start()] for w in ("小于", "不足"))
        if down and not up:
            return (None, -abs(x))
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


_H_RANGE_RE = re.compile(r"(\d{1,2})(?:个)?月?(?:-|~|至|到|—|－|–)(\d{1,2})个月")
_H_MONTH_YEAR_RE = re.compile(r"(\d{1,2})个月(?:至|到|-|~)(?:1|一)年")
_H_ONE_RE = re.compile(r"(\d{1,2}|十二|十八|二十四|六|三|九)个月")
_H_WORD_RE = re.compile(r"半年|一年|12个月|十二个月")


def parse_horizon(text: str) -> list[tuple[int, str]]:
    """Every horizon printed in ``text`` (whitespace removed) as ``(position, "6" | "6-12")``."""
    found: list[tuple[int, int, str]] = []
    for m in _H_RANGE_RE.finditer(text):
        found.append((m.start(), m.end(), f"{int(m.group(1))}-{int(m.group(2))}"))
    for m in _H_MONTH_YEAR_RE.finditer(text):
        found.append((m.start(), m.end(), f"{int(m.group(1))}-12"))
    for m in _H_ONE_RE.finditer(text):
        g = m.group(1)
        found.append((m.start(), m.end(), str(int(g) if g.isdigit() else _CN_NUM[g])))
    for m in _H_WORD_RE.finditer(text):
        found.append((m.start(), m.end(), "6" if m.group(0) == "半年" else "12"))
    found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    out: list[tuple[int, str]] = []
    last_end = -1
    for start, end, value in found:
        if start < last_end:
            continue
        if value.isdigit() and not 1 <= int(value) <= 36:
            continue
        out.append((start, value))
        last_end = end
    return out


def find_scale_windows(text: str, before: int = 500, after: int = 1800) -> list[str]:
    """Candidate 评级说明 windows of ``text`` (whitespace removed), last first: each anchor with the text around it.

    A short text (< 3000 characters after cleaning) is one window: the caller already located the section.
    """
    flat = _clean(text)
    if len(flat) < 3000:
        return [flat]
    spans: list[list[int]] = []
    for m in _ANCHOR_RE.finditer(flat):
        lo, hi = max(0, m.start() - before), min(len(flat), m.start() + after)
        chunk = flat[lo:hi]
        if "%" not in chunk and "基准" not in chunk and not _UNNAMED_RE.search(chunk):
            continue
        if spans and lo <= spans[-1][1] and hi - spans[-1][0] <= 8000:
            spans[-1][1] = hi
        else:
            spans.append([lo, hi])
    return [flat[lo:hi] for lo, hi in reversed(spans)]


class _Band:
    __slots__ = ("pos", "word", "desc", "band", "part")

    def __init__(self, pos: int, word: str, desc: str, band: tuple[float | None, float | None], part: str):
        self.pos, self.word, self.desc, self.band, self.part = pos, word, desc, band, part


_EN_TAG = r"(?:[(（][A-Za-z\- ]{2,20}[)）])?"
_COLUMNS_RE = re.compile(rf"((?:(?:{_RATING_RE.pattern}){_EN_TAG}){{2,6}})((?:[:：][^:：；;。]{{3,80}}[；;。]?){{2,6}})")


def _unzip_columns(flat: str) -> str:
    """Rewrite a column layout ``买入(Buy)增持(Outperform)：desc1；：desc2；`` as ``买入：desc1；增持：desc2；``."""
    def fix(m: re.Match) -> str:
        words = _RATING_RE.findall(m.group(1))
        descs = [d for d in re.split(r"[:：]", m.group(2)) if d]
        if len(words) != len(descs):
            return m.group(0)
        return "".join(f"{w}：{d}" for w, d in zip(words, descs))
    return _COLUMNS_RE.sub(fix, flat)


def _segments(flat: str) -> list[_Band]:
    """Rating word + description segments of a cleaned window that read as bands (in order)."""
    flat = _unzip_columns(flat)
    hits = [m for m in _RATING_RE.finditer(flat)
            if _QUOTED_DEF_RE.match(flat, m.end()) or (
                flat[m.end():m.end() + 1] not in ("，", ",", "、", "的", "）", ")", "或", "和", "/", "”", "\"")
                and flat[max(0, m.start() - 1):m.start()] not in ("“", "\"", "面", "为", "予"))]
    marks = [(m.start(), "industry") for m in _INDUSTRY_MARK_RE.finditer(flat)]
    marks += [(m.start(), "stock") for m in _STOCK_MARK_RE.finditer(flat)]
    marks.sort()
    out: list[_Band] = []
    for i, m in enumerate(hits):
        word = m.group(0)
        end = hits[i + 1].start() if i + 1 < len(hits) else len(flat)
        desc = re.sub(r"^[(（][A-Za-z\- ]{2,20}[)）]", "", flat[m.end():min(end, m.end() + 90)]).lstrip("”\":：—-–、（）()")
        cut = _CUT_RE.search(desc)
        if cut and cut.start() > 3:
            desc = desc[:cut.start()]
        if word in _UNRATED or len(desc) < 4 or not _HINT_RE.search(desc) or _GLYPH_RE.search(desc[:40]):
            continue  # not a definition, or garbled glyphs of a PDF font (©¨¶ for digits): unreadable
        if desc.startswith(("评级", "的评级", "或", "和", "、", "/")):
            continue
        band = parse_band_text(desc)
        if band is None:
            continue
        if _STOCK_DESC_RE.search(desc) and not desc.startswith("行业"):
            part = "stock"
        elif _INDUSTRY_DESC_RE.search(desc):
            part = "industry"
        else:
            before = [kind for pos, kind in marks if pos <= m.start()]
            part = before[-1] if before else "stock"
        out.append(_Band(m.start(), word, desc, band, part))
    return _coherent(out)


def _coherent(bands: list[_Band]) -> list[_Band]:
    """Keep the longest run of definitions: a run ends where the gap to the next band is long (> 260 characters)."""
    if not bands:
        return bands
    runs: list[list[_Band]] = [[bands[0]]]
    for b in bands[1:]:
        prev = runs[-1][-1]
        if b.pos - prev.pos > 260:
            runs.append([b])
        else:
            runs[-1].append(b)
    return max(runs, key=len)


def _benchmarks(flat: str) -> tuple[dict[str, str], dict[str, str]]:
    """(market → code, market → name as printed) from a cleaned window."""
    codes: dict[str, str] = {}
    promised: dict[str, str] = {}
    for m in _BENCH_RE.finditer(flat):
        name = m.group(0)
        code, own_market = next((c, mk) for p, c, mk in BENCHMARK_NAMES if re.fullmatch(p, name))
        lead = flat[max(0, m.start() - 16):m.start()]
        market = own_market
        best = -1
        for mk, pat in _MARKET_WORDS:
            for hit in re.finditer(pat, lead):
                if hit.end() > best:
                    best, market = hit.end(), mk
        if best >= 0 and (market == "A") != (own_market == "A") and own_market in ("A", "US", "NEEQ"):
            market = own_market  # an A-share index after 港股 is a different clause; keep the index's own market
        if market in promised:
            continue
        tail = flat[m.end():m.end() + 14]
        alt = re.match(r"(?:指数)?(?:或者?)(" + _BENCH_RE.pattern + ")", tail)
        promised[market] = name + (f"或{alt.group(1)}" if alt else "")
        codes[market] = code
    return codes, promised


def _part(bands: list[_Band], horizons: list[tuple[int, str]], flat: str, marks: list[int]) -> ScalePart | None:
    if not bands:
        return None
    seen: set[str] = set()
    rows: list[RatingBand] = []
    for b in bands:
        if b.word in seen:
            continue
        seen.add(b.word)
        verbal = not re.search(r"\d%|±", _clean(b.desc))
        try:
            rows.append(RatingBand(rating=b.word, low=b.band[0], high=b.band[1],
                                   text=_short(b.desc) if verbal else None))
        except ValidationError:
            continue  # an implausible edge (e.g. a mangled "515%"): not a definition line
    if not rows:
        return None
    rows = _close_open_ends(rows)
    first = bands[0].pos
    start = max([p for p in marks if p <= first], default=0)
    horizon = None
    inside = [h for pos, h in horizons if bands[0].pos <= pos <= bands[0].pos + len(bands[0].desc) + 6]
    earlier = [h for pos, h in horizons if start <= pos <= first]
    anywhere_before = [h for pos, h in horizons if pos <= first]
    if inside:
        horizon = inside[0]
    elif earlier:
        horizon = earlier[-1]
    elif anywhere_before:
        horizon = anywhere_before[-1]
    elif horizons:
        horizon = horizons[0][1]
    return ScalePart(horizon_months=horizon, bands=rows)


def _close_open_ends(rows: list[RatingBand]) -> list[RatingBand]:
    """Bands of one scale do not overlap: an open-ended band ("above 10 %") below a band that starts higher
    ("above 20 %") ends where that one starts (10-20 %); likewise "below -10 %" above "below -20 %" is -20 to -10 %.
    Verbal bands (no numbers) are left as printed."""
    lows = [r.low for r in rows if r.low is not None and r.text is None]
    highs = [r.high for r in rows if r.high is not None and r.text is None]
    out = []
    for r in rows:
        low, high = r.low, r.high
        if r.text is None and low is not None and high is None:
            above = [x for x in lows if x > low]
            high = min(above) if above else None
        elif r.text is None and high is not None and low is None:
            below = [x for x in highs if x < high]
            low = max(below) if below else None
        out.append(r if (low, high) == (r.low, r.high) else r.model_copy(update={"low": low, "high": high}))
    return out


def _short(desc: str) -> str:
    m = re.search(r"。|；|;|相关证券市场基准|市场基准指数说明|基准指数说明", desc)
    return (desc[:m.start()] if m else desc)[:60].strip("“”\"")


def _scale_type(part_bands: list[_Band], flat: str) -> tuple[str, str]:
    """("relative" | "absolute" | "coverage", promised benchmark when it is not an index)."""
    descs = "".join(b.desc for b in part_bands)
    if _COVERAGE_RE.search(descs):
        return "coverage", "coverage universe"
    if _INDUSTRY_BENCH_RE.search(descs):
        return "coverage", "行业指数"
    relative = re.search(r"相对|基准|指数|大盘|大市|市场|超越|优于|强于|弱于|跑赢|跑输|领先|落后|劣于", descs)
    if not relative:
        return "absolute", "absolute"
    return "relative", ""


def _parse_window(flat: str) -> tuple[RatingScale | None, int]:
    bands = _segments(flat)
    if not bands:
        return None, 0
    horizons = parse_horizon(flat)
    ind_marks = [m.start() for m in _INDUSTRY_MARK_RE.finditer(flat)]
    stk_marks = [m.start() for m in _STOCK_MARK_RE.finditer(flat)]
    stock_bands = [b for b in bands if b.part == "stock"]
    industry_bands = [b for b in bands if b.part == "industry"]
    lo = max(0, bands[0].pos - 700)
    hi = bands[-1].pos + len(bands[-1].desc) + 700
    codes, promised = _benchmarks(flat[lo:hi])
    parts: dict[str, ScalePart | None] = {}
    notes: list[str] = []
    for name, pb, marks in (("stock", stock_bands, stk_marks), ("industry", industry_bands, ind_marks)):
        part = _part(pb, horizons, flat, marks)
        if part is None:
            parts[name] = None
            continue
        kind, what = _scale_type(pb, flat)
        p_codes, p_promised = dict(codes), dict(promised)
        if kind != "relative":
            p_codes, p_promised = {}, {"A": what}
            if kind == "coverage" and name == "stock":
                notes.append(f"stock bands are relative to the {what}: no index to score against")
            if kind == "absolute" and name == "stock":
                notes.append("stock bands are absolute returns (target upside vs the current price)")
        elif not p_codes:
            unnamed = _UNNAMED_RE.search("".join(b.desc for b in pb)) or _UNNAMED_RE.search(flat)
            p_promised = {"A": unnamed.group(0) if unnamed else "unspecified"}
            p_codes = {"A": "000300.SH"}
            if name == "stock":
                notes.append(f"benchmark printed as {p_promised['A']!r} (no index named): scored against CSI 300")
        for market, code in list(p_codes.items()):
            if not code:
                del p_codes[market]
                notes.append(f"{p_promised.get(market)} for {market}: no code for this index")
        parts[name] = part.model_copy(update={"benchmarks": p_codes, "benchmarks_promised": p_promised,
                                              "scale_type": kind})
    if parts["stock"] is not None and parts["industry"] is not None and parts["industry"].horizon_months is None:
        parts["industry"] = parts["industry"].model_copy(update={"horizon_months": parts["stock"].horizon_months})
    if parts["industry"] is not None and parts["stock"] is not None and parts["stock"].horizon_months is None:
        parts["stock"] = parts["stock"].model_copy(update={"horizon_months": parts["industry"].horizon_months})
    scale = RatingScale(broker="", source="report", stock=parts["stock"], industry=parts["industry"],
                        notes="; ".join(dict.fromkeys(notes)))
    return scale, len(bands)


def parse_scale_section(text: str) -> RatingScale | None:
    """Parse a report's rating definitions (评级说明) into a :class:`RatingScale` (``source="report"``).

    ``text`` is the section (or a whole report: the section is then located by its anchors, see
    :func:`find_scale_windows`), with line structure or with every whitespace stripped. Returns ``None`` when no
    rating band is defined. ``broker`` is left empty; the caller sets it.
    """
    best: RatingScale | None = None
    best_n = 0
    for window in find_scale_windows(text):
        scale, n = _parse_window(window)
        if scale is not None and n > best_n:
            best, best_n = scale, n
    return best
