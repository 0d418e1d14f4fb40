"""The price cell of a run-together table row, found with the row's own arithmetic.

In whitespace-stripped text a table row's cells run together (``6863524133.14``: PE 68, 63, 52, 41 then a price
33.14), so where one cell ends and the next begins is not printed. Rating tables print, for each stock, the price
(CNY, or HKD/USD for foreign listings, the table's own currency), the EPS forecasts (currency per share) and the PE
columns (a multiple, no unit), with ``PE ≈ price ÷ EPS`` per year. That identity, checked against the digits
printed, tells which reading of the run is right:

- :func:`pe_hits` — how many EPS cells after the price give, as ``price ÷ EPS``, a PE printed later in the row;
- :func:`pe_checked_price` — the price cell anywhere in a price-first row, confirmed by at least two EPS/PE pairs;
- :func:`last_price` — the price cell of a price-*last* row (``EPS… PE… price``): the row is read as EPS, PE and
  price cells in every way its digits allow, and the reading whose PE cells match price ÷ EPS for the most years
  wins; when no reading is confirmed (or two tie) the price is left empty and the reason returned;
- :func:`readings` — the possible readings of such a cell (for a plausibility check against the target).

Everything works on the row's numbers as printed (digits, dots, commas; ``|`` where a word or unit separated
stretches). Nothing here knows any broker or file.
"""

from __future__ import annotations

import math
import re

__all__ = ["pe_hits", "after_price", "pe_checked_price", "last_price", "readings"]

_PRICE_CAND_RE = re.compile(r"(?=(\d{1,4}(?:\.\d{1,2})?))")
_EPS_RE = re.compile(r"(?=(\d\.\d{2}))")   # overlapping: a run's cells share no separator
# EPS cells printed with one or two decimals (``0.60.50.60.8`` or ``1.52.062.93.7``), overlapping
_EPS_ANY_RE = re.compile(r"(?=((?<![\d])\d{1,2}\.\d{1,2}|\d\.\d{1,2}))")


def _pe_forms(q: float) -> set[str]:
    """How a PE of ``q`` may be printed: rounded to an integer, or to one or two decimals."""
    return {str(math.floor(q + 0.5)), f"{q:.1f}", f"{q:.2f}"}


def _eps_2dec(numbers: str) -> list[tuple[int, float]]:
    """(start, value) of every reading ``d.dd`` of an EPS cell in a row's numbers (overlapping), value > 0.005."""
    return [(m.start(), v) for m in _EPS_RE.finditer(numbers) if (v := float(m.group(1))) > 0.005]


def pe_hits(numbers: str, price: float | None, at: int = 0, eps: list[tuple[int, float]] | None = None) -> int:
    """How many EPS cells of a run-together row (after offset ``at``) give, as ``price ÷ EPS``, a PE printed after
    that cell, in order (rounded to an integer, or to one or two decimals); 0 when none or
    ``price`` is missing, or when fewer than three hits and not every EPS cell hits (two-digit PEs are easily met
    by chance). Hits show the price cell was read right. ``eps``: the row's :func:`_eps_2dec`, when known."""
    if price is None or price <= 0:
        return 0
    cells = [e for e in (eps if eps is not None else _eps_2dec(numbers)) if e[0] >= at]
    if len(cells) < 2:
        return 0
    hits, misses, pos = 0, 0, 0
    for start, value in cells:
        q = price / value
        begin = max(start + 4, pos)
        found = [i for i in (numbers.find(f, begin) for f in _pe_forms(q) if len(f) >= 2) if i >= 0]
        if found:
            hits += 1
            pos = min(found) + 1
        else:
            misses += 1
            if len(cells) - misses < 3:
                return 0                  # neither three hits nor every cell a hit can be reached any more
    return hits if hits >= 3 or (hits >= 2 and hits == len(cells)) else 0


def after_price(numbers: str, price: float | None) -> int:
    """Offset just after the cell printing ``price`` in a row's numbers (0 when not found)."""
    if price is None:
        return 0
    for form in (f"{price:.2f}", f"{price:.1f}", f"{price:g}"):
        i = numbers.find(form)
        if i >= 0:
            return i + len(form)
    return 0


def pe_checked_price(numbers: str) -> float | None:
    """The price cell of a run-together row found by the row's own arithmetic: the number (any start, up to two
    decimals) whose quotients by the EPS cells after it are the PE cells printed at the row's end
    (``2279.260.490.630.78191512`` → 9.26: 9.26 ÷ 0.49 ≈ 19, ÷ 0.63 ≈ 15, ÷ 0.78 ≈ 12); ``None`` when no number is
    confirmed by at least two EPS/PE pairs. Used when the header's column order did not give a confirmed price."""
    best: tuple[int, int, float] | None = None
    eps = _eps_2dec(numbers)
    if len(eps) < 2:
        return None
    last_two = eps[-2][0]                 # a candidate needs two EPS cells after it
    for m in _PRICE_CAND_RE.finditer(numbers):
        if m.start() >= last_two:
            break
        token = m.group(1)
        if m.start() > 0 and numbers[m.start() - 1] == ".":
            continue                      # a decimal fraction's digits, not a cell's start
        if m.start() + len(token) > last_two:
            continue
        value = float(token)
        if value < 0.5:
            continue
        hits = pe_hits(numbers, value, m.start() + len(token), eps)
        if hits and (best is None or hits > best[0]):
            best = (hits, m.start(), value)
    return best[2] if best is not None else None


_TOL = 0.06   # a PE printed within 6 % of price ÷ EPS counts (PE columns are often computed at another day's price)


def _int_ok(digits: str, widths: range) -> bool:
    return digits.isdigit() and len(digits) in widths and (len(digits) == 1 or digits[0] != "0")


def _eps_readings(run: str, dot: int, int_after: int | None = None) -> list[tuple[float, int]]:
    """(value, decimals) readings of the EPS cell whose decimal point is at ``dot``: one or two integer digits
    before it, one or two decimals after it (``int_after`` fixes the number of decimals)."""
    out = []
    for k in (1, 2):
        ip = run[dot - k: dot]
        if dot - k < 0 or not ip.isdigit() or not _int_ok(ip, range(1, 3)):
            continue
        if k == 2 and dot - 3 >= 0 and run[dot - 3] == "-":
            continue
        neg = dot - k - 1 >= 0 and run[dot - k - 1] == "-"
        for d in ((int_after,) if int_after else (1, 2)):
            dec = run[dot + 1: dot + 1 + d]
            if len(dec) == d and dec.isdigit():
                v = float(f"{ip}.{dec}")
                out.append((-v if neg else v, d))
    return out


def _pair_score(price: float, eps_sets: list[list[float]], pes: list[float]) -> tuple[int, float]:
    """(years whose PE is within ``_TOL`` of price ÷ EPS, total log error of the best reading per year)."""
    hits, err = 0, 0.0
    for readings, pe in zip(eps_sets, pes):
        best = min((abs(math.log(price / (e * pe))) for e in readings if e > 0.005 and pe > 0), default=9.0)
        if best <= math.log(1 + _TOL):
            hits += 1
        err += min(best, 3.0)
    return hits, err


def _compositions(digits: str, parts: list[range]) -> list[list[str]]:
    """Every split of ``digits`` into consecutive pieces whose lengths lie in ``parts`` (in order)."""
    if not parts:
        return [[]] if not digits else []
    out = []
    for w in parts[0]:
        if w > len(digits):
            break
        head = digits[:w]
        for rest in _compositions(digits[w:], parts[1:]):
            out.append([head] + rest)
    return out


def _segmentations(run: str, n: int) -> list[tuple[float, int, float]]:
    """(price, hits, error) for every reading of ``run`` as ``[cells…] EPS×n PE×n price`` (PE cells integers or
    all with decimals), scored by :func:`_pair_score`."""
    dots = [i for i, c in enumerate(run) if c == "."]
    m = re.search(r"\.(\d{1,2})$", run)
    if not m or len(dots) < n + 1:
        return []
    p_dot, p_dec = dots[-1], m.group(1)
    out = []
    # integer PE cells: EPS dots are the n dots before the price's
    eps_dots = dots[-1 - n: -1]
    between = run[eps_dots[-1] + 1: p_dot]
    if between.isdigit():
        eps_sets = [[v for v, _ in _eps_readings(run, d)] for d in eps_dots[:-1]]
        for split in _compositions(between, [range(1, 3)] + [range(1, 4)] * n + [range(1, 5)]):
            dec, *pes, ip = split
            if not all(_int_ok(x, range(1, 4)) for x in pes) or not _int_ok(ip, range(1, 5)):
                continue
            last = [v for v, _ in _eps_readings(run, eps_dots[-1], len(dec))]
            price = float(f"{ip}.{p_dec}")
            hits, err = _pair_score(price, eps_sets + [last], [float(x) for x in pes])
            out.append((price, hits, err))
    # PE cells with decimals: n PE dots before the price's, n EPS dots before those
    if len(dots) >= 2 * n + 1:
        pe_dots, eps_dots = dots[-1 - n: -1], dots[-1 - 2 * n: -1 - n]
        eps_sets = [[v for v, _ in _eps_readings(run, d)] for d in eps_dots]
        pe_sets: list[list[tuple[float, int]]] = [_eps_readings_wide(run, d) for d in pe_dots]
        for ends in _pe_choices(pe_sets):
            pes, tail_from = ends
            ip = run[tail_from: p_dot]
            if not _int_ok(ip, range(1, 5)):
                continue
            price = float(f"{ip}.{p_dec}")
            hits, err = _pair_score(price, eps_sets, pes)
            out.append((price, hits, err))
    return out


def _eps_readings_wide(run: str, dot: int) -> list[tuple[float, int]]:
    """(value, end offset) readings of a PE cell with decimals at ``dot``: one to three integer digits, one or two
    decimals."""
    out = []
    for k in (1, 2, 3):
        ip = run[dot - k: dot]
        if dot - k < 0 or not ip.isdigit() or not _int_ok(ip, range(1, 4)):
            continue
        for d in (1, 2):
            dec = run[dot + 1: dot + 1 + d]
            if len(dec) == d and dec.isdigit():
                out.append((float(f"{ip}.{dec}"), dot + 1 + d))
    return out


def _pe_choices(pe_sets: list[list[tuple[float, int]]]) -> list[tuple[list[float], int]]:
    """(PE values, offset after the last PE) for each combination of PE readings (at most a few dozen)."""
    combos: list[tuple[list[float], int]] = [([], 0)]
    for readings in pe_sets:
        combos = [(vals + [v], end) for vals, _ in combos for v, end in readings]
    return combos


def last_price(run: str, years: int | None = None, checked_only: bool = False) -> tuple[float | None, str]:
    """(price, note) of a price-last row from its last numeric stretch ``run`` (EPS cells, PE cells, then the
    price, run together; cells before the EPS block, such as a market cap, are allowed).

    The price's decimals are the digits after the run's last decimal point; its integer digits run into the PE cell
    before it. Every reading of the run as ``EPS×n PE×n price`` (``n`` = ``years`` when the header tells the
    number of forecast years, else 2 to 5; EPS with one or two decimals, PE integers or all with decimals, price
    with one to four integer digits) is scored by the years whose printed PE is within 6 % of price ÷ EPS
    (``…52 41 | 33.14`` with EPS 0.8: 33.14 ÷ 0.8 ≈ 41). The best reading must match at least two years and be
    the only price reaching that score. When the integer part cannot run into another cell (the price stands alone
    in its stretch) it is read as printed; with no confirmed reading, a run whose last three or more cells all
    print two decimals splits by that format. ``checked_only`` allows only the arithmetic. Otherwise the price is
    ``None`` and ``note`` says why (never a guess).
    """
    m = re.search(r"(\d[\d,]*)\.(\d{1,2})$", run)
    if not m:
        return None, ""
    digits, decimals = m.group(1).replace(",", ""), m.group(2)
    if "," in m.group(1) and not checked_only:
        return float(f"{digits}.{decimals}"), ""          # a thousands separator fixes the integer part
    if m.start() == 0 and len(digits) <= 4 and not checked_only:
        return float(f"{digits}.{decimals}"), ""           # the price stands alone in its stretch
    best: dict[float, tuple[int, float]] = {}
    for n in ((years,) if years else (2, 3, 4, 5)):
        for price, hits, err in _segmentations(run, n):
            old = best.get(price)
            if old is None or (hits, -err) > (old[0], -old[1]):
                best[price] = (hits, err)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    if not ranked or ranked[0][1][0] < 2:
        uniform = None if checked_only or len(decimals) != 2 else _uniform_decimals_price(run, 2)
        if uniform is not None:
            return uniform, ""
        return None, f"price cell not split with certainty (readings {'/'.join(f'{x:g}' for x in readings(run))}; " \
                     f"no PE = price ÷ EPS confirms one)"
    if len(ranked) > 1 and ranked[1][1][0] == ranked[0][1][0]:
        return None, (f"price cell not split with certainty (readings {ranked[0][0]:g} and {ranked[1][0]:g} "
                      f"both fit price ÷ EPS = PE)")
    return ranked[0][0], ""


def readings(run: str) -> list[float]:
    """Every reading of the last number of ``run`` with one to four integer digits (no leading zero), smallest
    first: the candidates for a price cell whose integer digits ran into the cell before it."""
    m = re.search(r"(\d+)\.(\d{1,2})$", run)
    if not m:
        return []
    digits, decimals = m.group(1), m.group(2)
    return [float(f"{digits[-k:]}.{decimals}") for k in range(1, min(4, len(digits)) + 1)
            if k == 1 or digits[-k] != "0"]


def _uniform_decimals_price(run: str, decimals: int) -> float | None:
    """The last cell when the cells before it are printed with the price's number of decimals too: the longest
    tail of ``run`` that splits into three or more such cells (``…60.3642.6533.9068.18`` → 60.36, 42.65, 33.90,
    68.18)."""
    pattern = re.compile(rf"-?\d{{1,4}}\.\d{{{decimals}}}")
    for i in range(len(run)):
        if i > 0 and not run[i - 1].isdigit():
            continue
        pos, cells = i, []
        while pos < len(run):
            m = pattern.match(run, pos)
            if not m:
                break
            cells.append(m.group(0))
            pos = m.end()
        if pos == len(run) and len(cells) >= 3:
            return float(cells[-1])
    return None
