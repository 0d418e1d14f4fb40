"""Accuracy of the 评级说明 parser on the labelled corpus: bands, horizon, benchmark, scale type.

For every labelled report whose label says the report prints its rating definitions (``scale.found_in_report``),
the report's text (stripped texts as they are; PDFs through pdfplumber) goes through
:func:`engine.signals.scales.parse_scale_section` and is compared with the label:

- band: each labelled stock and industry band; numeric ``[low, high]`` percent must equal ours (fractions × 100);
  a verbal label band (text) must be a verbal band of ours for the same rating word;
- horizon: our ``"6-12"`` equals the label's ``horizon_range``, or our single horizon its ``horizon_months``;
- benchmark (A-share / HK): the label's code (``000300``, ``HSI``) equals ours; a label without a named index
  (大盘, 市场指数, industry index, coverage universe, absolute) must be matched by our promised benchmark / type;
- type: index-relative / absolute / coverage-relative.

Usage: ``python bench/bench_scale_accuracy.py [--shared ../shared] [--misses]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.paths import shared_dir  # noqa: E402
from engine.signals.scales import RatingScale, parse_scale_section  # noqa: E402

_TYPES = {"index-relative": "relative", "absolute (vs current price)": "absolute",
          "coverage-universe/industry relative": "coverage"}


def pdf_text(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def report_text(shared: Path, kind: str, ident: str, cache: Path | None = None) -> str:
    if kind == "stripped":
        return (shared / "corpus" / "stripped" / f"{ident}.txt").read_text(encoding="utf-8")
    if cache is not None and (cache / f"{ident}.txt").is_file():
        return (cache / f"{ident}.txt").read_text(encoding="utf-8")
    text = pdf_text(shared / "corpus" / "pdf" / f"{ident}.pdf")
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / f"{ident}.txt").write_text(text, encoding="utf-8")
    return text


def _band_ok(label, ours) -> bool:
    if ours is None:
        return False
    if isinstance(label, str):
        return ours.text is not None
    lo, hi = label
    ol = None if ours.low is None else round(ours.low * 100, 6)
    oh = None if ours.high is None else round(ours.high * 100, 6)
    return ol == (None if lo is None else float(lo)) and oh == (None if hi is None else float(hi))


def _horizon_ok(scale_label: dict, ours: str | None) -> bool:
    rng = scale_label.get("horizon_range")
    if rng and ours == f"{rng[0]}-{rng[1]}":
        return True
    h = scale_label.get("horizon_months")
    return h is not None and ours == str(h)


def _bench_ok(label: str | None, market: str, own: RatingScale, label_type: str | None) -> bool | None:
    """True/False, or None when the label names no benchmark for this market (not counted)."""
    part = own.stock or own.industry
    if label is None:
        if market == "A" and label_type and _TYPES.get(label_type) in ("absolute", "coverage"):
            return part.scale_type == _TYPES[label_type]
        return None
    code = part.benchmarks.get(market, "")
    promised = part.benchmarks_promised.get(market, "")
    m = re.search(r"(\d{6}|HSI|HSCI|HSCEI)\b", label)
    if m:
        return code.split(".")[0] == m.group(1)
    if "MSCI" in label:
        return code == "MSCI China"
    if "industry" in label or "行业指数" in label:
        return part.scale_type == "coverage" and "行业" in promised
    if "coverage" in label or "覆盖" in label:
        return part.scale_type == "coverage"
    if any(w in label for w in ("unspecified", "not named", "大盘", "市场指数")):
        return code == "000300.SH" and promised in ("大盘", "市场指数", "市场基准", "市场表现", "大市",
                                                    "相关证券市场代表性指数", "unspecified")
    return promised != "" and promised in label


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=shared_dir())
    ap.add_argument("--misses", action="store_true", help="print every miss")
    ap.add_argument("--cache", type=Path, default=None, help="keep the PDFs' text here between runs")
    args = ap.parse_args()
    labels = sorted((args.shared / "corpus" / "labels").glob("*/*.json"))
    if not labels:
        print(f"no labels under {args.shared}/corpus/labels")
        return 1
    tally: dict[str, list[int]] = {k: [0, 0] for k in ("found", "stock band", "industry band", "horizon",
                                                       "benchmark A", "benchmark HK", "type")}
    misses: list[str] = []
    started = time.perf_counter()
    for path in labels:
        label = json.loads(path.read_text(encoding="utf-8"))
        scale_label = label.get("scale") or {}
        if not scale_label.get("found_in_report"):
            continue
        kind = path.parent.name
        own = parse_scale_section(report_text(args.shared, kind, label["id"], args.cache))
        tally["found"][1] += 1
        if own is None or (own.stock is None and own.industry is None):
            misses.append(f"{kind}/{label['id']}: no scale found")
            continue
        tally["found"][0] += 1
        for part_name, key in (("stock", "bands"), ("industry", "industry_bands")):
            part = getattr(own, part_name)
            for rating, band in (scale_label.get(key) or {}).items():
                ok = _band_ok(band, part.band(rating) if part else None)
                tally[f"{part_name} band"][0] += ok
                tally[f"{part_name} band"][1] += 1
                if not ok:
                    got = part.band(rating) if part else None
                    misses.append(f"{kind}/{label['id']}: {part_name} band {rating}: label {band} vs "
                                  f"{None if got is None else (got.low, got.high, got.text)}")
        horizon = (own.stock or own.industry).horizon_months
        ok = _horizon_ok(scale_label, horizon)
        tally["horizon"][0] += ok
        tally["horizon"][1] += 1
        if not ok:
            misses.append(f"{kind}/{label['id']}: horizon label {scale_label.get('horizon_months')} "
                          f"{scale_label.get('horizon_range')} vs {horizon}")
        for market, key in (("A", "benchmark_a"), ("HK", "benchmark_hk")):
            ok = _bench_ok(scale_label.get(key), market, own, scale_label.get("benchmark_type"))
            if ok is None:
                continue
            tally[f"benchmark {market}"][0] += ok
            tally[f"benchmark {market}"][1] += 1
            if not ok:
                part = own.stock or own.industry
                misses.append(f"{kind}/{label['id']}: benchmark {market} label {scale_label.get(key)!r} vs "
                              f"{part.benchmarks.get(market)} / {part.benchmarks_promised.get(market)} "
                              f"({part.scale_type})")
        label_type = _TYPES.get(scale_label.get("benchmark_type") or "")
        if label_type:
            ok = (own.stock or own.industry).scale_type == label_type
            tally["type"][0] += ok
            tally["type"][1] += 1
            if not ok:
                misses.append(f"{kind}/{label['id']}: type label {label_type} vs {(own.stock or own.industry).scale_type}")
    elapsed = time.perf_counter() - started
    print(f"评级说明 accuracy on {tally['found'][1]} labelled reports with a printed scale ({elapsed:.1f} s)")
    for key, (ok, n) in tally.items():
        print(f"  {key:14s} {ok:4d} / {n:4d}  {100 * ok / n if n else 0:5.1f} %")
    if args.misses:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
