"""Benchmark: ingest 10,000 synthetic broker reports (varied templates) and report reports per second.

The reports are generated here from templates written for this benchmark (not copies of the seed reports):
company initiations (A-share and HK, with target price), industry reports with a rating table, weekly reports with
watch lists (with codes, bracketed names, plain names), reports without a printed date (quoted-price date only),
reports without a 评级说明, and reports from a broker that is not in the registry. Every generated report knows
its expected rated stocks; the benchmark first checks the extraction against them, then times it.

Peer: there is no open-source tool that does this extraction, so the figure is compared with "nothing fancy":
a plain loop that reads each file and runs one regex for stock codes and one for rating words (a grep-level
lower bound that extracts no dates, scales, prices or mentions). The ratio says how much the full extraction costs
over just touching the text.

Run: ``python bench/bench_ingest.py [N]`` (default 10,000).

``python bench/bench_ingest.py --corpus [--repeat N]`` instead times the real corpus (``../shared/corpus``, issue
9's goal: the 466 stripped reports in under 10 s, the 47 PDFs in under 30 s, on 2 cores): the parser's per-file cost in
this process, in a spawned and in a forked worker process (is a file dearer in a worker?), and
``ratingbt ingest`` end to end in a new process (imports, registry, files, table) with the default executor choice,
in-process, and two spawned workers (``--repeat N``: N alternating rounds, the best of each kind kept). The load
average is printed with every figure (the machine is shared).
"""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.signals.extract import extract_report  # noqa: E402
from engine.paths import shared_dir  # noqa: E402
from engine.signals.ingest import ingest_paths, ingest_texts  # noqa: E402
from engine.signals.scales import load_registry  # noqa: E402
from engine.signals.security_master import load_security_master  # noqa: E402

A_POOL = [("300474", "景嘉微"), ("688981", "中芯国际"), ("688041", "海光信息"), ("603063", "禾望电气"),
          ("301018", "申菱环境"), ("300624", "万兴科技"), ("000063", "中兴通讯"), ("000977", "浪潮信息"),
          ("603019", "中科曙光"), ("300308", "中际旭创"), ("300502", "新易盛"), ("002384", "东山精密"),
          ("688608", "恒玄科技"), ("688213", "思特威"), ("300394", "天孚通信"), ("002938", "鹏鼎控股")]
HK_POOL = [("0700", "腾讯控股"), ("1810", "小米集团"), ("3690", "美团"), ("1024", "快手"), ("6082", "壁仞科技")]
BROKERS = {
    "民生证券": (["推荐", "谨慎推荐", "中性", "回避"], ["推荐", "中性", "回避"]),
    "上海证券": (["买入", "增持", "中性", "减持"], ["增持", "中性", "减持"]),
    "华龙证券": (["买入", "增持", "中性", "减持", "卖出"], ["推荐", "中性", "回避"]),
    "平安证券(香港)": (["强烈推荐", "推荐", "中性", "回避"], ["强于大市", "中性", "弱于大市"]),
    "西北东证券": (["买入", "增持", "中性", "减持"], ["看好", "中性", "看淡"]),   # not in the registry
}
FILLER = ["行业景气度持续回升，下游需求旺盛，龙头公司订单饱满。", "国产替代进程加速，核心环节有望率先受益。",
          "海外云厂商资本开支维持高位，带动上游产业链量价齐升。", "政策端持续发力，产业生态逐步完善。",
          "公司产品结构持续优化，毛利率稳步提升，费用率有所下降。"]


def _date(i: int) -> tuple[int, int, int]:
    """A distinct date per report (so no two generated reports collapse into one signal)."""
    day = dt.date(2012, 1, 2) + dt.timedelta(days=i)
    return day.year, day.month, day.day


def _scale_section(broker: str, stock_words: list[str], industry_words: list[str]) -> str:
    edges = [("涨幅 20%以上",), ("涨幅 5%~20%之间",), ("涨幅-5%~5%之间",), ("跌幅 5%~20%之间",), ("跌幅 20%以上",)]
    lines = ["评级说明", "", "投资建议评级标准\t评级\t说明"]
    n = len(stock_words)
    picks = [0, 1, 2, 3, 4] if n == 5 else [0, 1, 2, 4]
    for i, word in enumerate(stock_words):
        prefix = "以报告发布日后的 12 个月内公司股价相对同期基准指数的涨跌幅为基准。A 股以沪深 300 指数为基准；港股以恒生指数为基准。" \
            if i == 0 else ""
        lines.append(f"{prefix}\t{word}\t相对基准指数{edges[picks[i]][0]}")
    for i, word in enumerate(industry_words):
        desc = ["相对基准指数涨幅 5%以上", "相对基准指数涨幅-5%~5%之间", "相对基准指数跌幅 5%以上"][i]
        lines.append(f"{'行业评级' if i == 0 else ''}\t{word}\t{desc}")
    return "\n".join(lines) + f"\n\n免责声明\n\n{broker}股份有限公司具有证券投资咨询业务资格。\n"


def make_report(i: int, rng: random.Random) -> tuple[str, dict[str, str]]:
    """A synthetic report and its expected {code: rating} of rated stocks."""
    broker = rng.choice(list(BROKERS))
    stock_words, industry_words = BROKERS[broker]
    y, m, d = _date(i)
    kind = rng.choice(["company", "company_hk", "table", "weekly_codes", "weekly_names", "nodate_table"])
    expected: dict[str, str] = {}
    body = [f"\n{rng.choice(FILLER)}{rng.choice(FILLER)}\n" for _ in range(rng.randint(2, 6))]
    head: list[str] = []
    if kind in ("company", "company_hk"):
        code, name = rng.choice(HK_POOL if kind == "company_hk" else A_POOL)
        rating = rng.choice(stock_words)
        unit = "港元" if kind == "company_hk" else "元"
        suffix = ". HK" if kind == "company_hk" else ""
        head = ["首次覆盖报告" if rng.random() < 0.5 else "公司点评", f"{name} ({code}{suffix})", "",
                f"{y}年{m}月{d}日", "", "评级", rating, "目标价", f"{rng.uniform(10, 200):.2f} {unit}", "",
                f"现价: {rng.uniform(10, 200):.2f} {unit}", f"数据更新至 {y} 年 {m} 月 {d} 日", "", "分析师", "张伟", ""]
        canonical = f"{int(code):05d}.HK" if kind == "company_hk" else None
        expected[canonical or _a_code(code)] = rating
    elif kind in ("table", "nodate_table"):
        head = [f"{rng.choice(['半导体', '计算机', '通信'])}行业深度报告", ""]
        if kind == "table":
            head += [f"{y}年{m:02d}月{d:02d}日", ""]
        head += [rng.choice(industry_words), "", "维持评级", "", "分析师 李娜", ""]
        stocks = rng.sample(A_POOL, rng.randint(2, 6))
        table = ["重点公司盈利预测、估值与评级", "", "代码\t简称\t股价\tEPS(元)\t\tPE(倍)\t\t评级",
                 "\t\t(元)\t2025E\t2026E\t2025E\t2026E\t"]
        for code, name in stocks:
            rating = rng.choice(stock_words + ["/"])
            table.append(f"{_a_code(code)}\t{name}\t{rng.uniform(5, 300):.2f}\t0.5\t0.8\t40\t30\t{rating}")
            if rating != "/":
                expected[_a_code(code)] = rating
        table += ["", f"资料来源：Wind（注：股价为{y}年{m}月{d}日收盘价）", ""]
        body = table + body
    else:
        head = [rng.choice(["电子", "计算机"]) + "行业周报", "", f"日期： {y}年{m:02d}月{d:02d}日", "",
                f"投资评级：{rng.choice(industry_words)}（维持）", "", "研究员王芳", ""]
        stocks = rng.sample(A_POOL, rng.randint(3, 8))
        if kind == "weekly_codes":
            watch = "、".join(f"{n}（{_a_code(c)}）" for c, n in stocks)
        else:
            watch = "、".join(f"【{n}】" if rng.random() < 0.5 else n for _, n in stocks)
        body.append(f"投资建议：建议关注{watch}。")
    text = "\n".join(head + body)
    if rng.random() < 0.8:
        text += "\n" + _scale_section(broker, stock_words, industry_words)
    else:
        text += f"\n\n{broker}研究所\n"
    return text, expected


def _a_code(code: str) -> str:
    return f"{code}.{'SH' if code.startswith('6') else 'SZ'}"


def naive_scan(paths: list[Path]) -> int:
    """The "nothing fancy" peer: read each file, regex for codes and rating words."""
    code_re = re.compile(r"\d{6}\.(?:SH|SZ)|\d{4}\.\s?HK")
    word_re = re.compile("|".join(w for w in ("强烈推荐", "谨慎推荐", "推荐", "买入", "增持", "中性", "减持", "卖出", "回避")))
    hits = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        hits += len(code_re.findall(text)) + len(word_re.findall(text))
    return hits


def main(n: int = 10_000) -> None:
    rng = random.Random(20261123)
    reports = [make_report(i, rng) for i in range(n)]
    registry, master = load_registry(), load_security_master()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (text, _) in enumerate(reports):
            path = Path(tmp) / f"r{i:05d}.txt"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        # correctness first: every expected rating extracted, nothing extra rated (per report, on 500 reports)
        wrong = []
        for path, (text, expected) in zip(paths[:500], reports[:500]):
            rep = extract_report(path.read_text(encoding="utf-8"), str(path), registry, master)
            got = {row["code"]: row["rating"] for row in rep.rows if row["kind"] == "rating"}
            if got != expected:
                wrong.append((path.name, expected, got))
        n_expected = sum(len(e) for _, e in reports[:500])
        print(f"check on 500 reports: {n_expected} expected ratings, {len(wrong)} reports wrong")
        if wrong:
            raise SystemExit(f"extraction check failed: {wrong[:3]}")

        t0 = time.perf_counter()
        naive_scan(paths)
        t_naive = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = ingest_paths(paths, registry=registry, master=master)
        t_full = time.perf_counter() - t0
    sig = result.signals
    print(f"reports: {n:,}  signals: {len(sig):,} ({int((sig['kind'] == 'rating').sum()):,} ratings, "
          f"{int((sig['kind'] == 'mention').sum()):,} mentions)")
    print(f"ratingbt ingest (files -> signals, dedupe, actions): {t_full:.2f} s = {n / t_full:,.0f} reports/s")
    print(f"naive read + 2 regex scans (peer, no extraction):  {t_naive:.2f} s = {n / t_naive:,.0f} reports/s")
    print(f"ratio full / naive time: {t_full / t_naive:.1f}x")
    seeds = shared_dir() / "seeds"
    if seeds.is_dir():   # real reports are longer (8-168 KB): throughput on the five seeds, 40 rounds, in memory
        texts = [(f"{p.name}#{k}", p.read_text(encoding="utf-8")) for k in range(40) for p in sorted(seeds.glob("*.txt"))]
        t0 = time.perf_counter()
        ingest_texts(texts, registry=registry, master=master)
        t_seeds = time.perf_counter() - t0
        megabytes = sum(len(t.encode("utf-8")) for _, t in texts) / 1e6
        print(f"seed reports ({len(texts)} = 5 seeds x 40, {megabytes:.0f} MB): {len(texts) / t_seeds:,.0f} reports/s, "
              f"{megabytes / t_seeds:.1f} MB/s")


def _load() -> str:
    import os

    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _timed_chunk(paths: list[str], shared: tuple) -> tuple[float, float]:
    """(CPU s, wall s) of ingesting ``paths`` in the process this runs in."""
    from engine.signals.ingest import ingest_file

    registry, master = shared
    c0, w0 = time.process_time(), time.perf_counter()
    for p in paths:
        ingest_file(Path(p), registry, master)
    return time.process_time() - c0, time.perf_counter() - w0


def corpus(repeat: int = 1) -> None:
    """The real corpus: per-file cost by process kind, then ``ratingbt ingest`` in a new process (module docstring)."""
    import os
    import subprocess

    from engine.executor.local import ProcessExecutor
    from engine.signals.ingest import expand_paths
    from engine.signals.parallel import ForkProcessExecutor

    root = Path(__file__).resolve().parents[1]
    folder = shared_dir() / "corpus" / "stripped"
    pdfs = shared_dir() / "corpus" / "pdf"
    if not folder.is_dir():
        print(f"{folder} not found")
        return
    files = [str(p) for p in expand_paths([folder])[0]]
    registry, master = load_registry(), load_security_master()
    print(f"machine: {os.cpu_count()} cores; corpus: {len(files)} files of {folder}")
    _timed_chunk(files[:5], (registry, master))                          # warm the pattern caches
    cpu, wall = _timed_chunk(files, (registry, master))
    print(f"parser in this process: {cpu:.2f} s CPU, {wall:.2f} s wall, {cpu / len(files) * 1e3:.1f} ms CPU per file "
          f"(load {_load()})")
    for label, make in (("spawned worker", lambda: ProcessExecutor(1)),
                        ("forked worker", lambda: ForkProcessExecutor(1))):
        with make() as ex:
            ref = ex.share((registry, master))
            ex.submit(_timed_chunk, files[:5], ref).result()
            wcpu, wwall = ex.submit(_timed_chunk, files, ref).result()
        print(f"parser in a {label}: {wcpu:.2f} s CPU, {wwall:.2f} s wall, {wcpu / len(files) * 1e3:.1f} ms CPU per "
              f"file, {wcpu / cpu:.2f}× the driver's (load {_load()})")
    env = {**os.environ, "PYTHONPATH": str(root)}
    runs = [("--executor in-process", [str(folder), "--executor", "in-process"]), ("default (auto)", [str(folder)]),
            ("--workers 2 --executor processes (spawn)", [str(folder), "--workers", "2", "--executor", "processes"])]
    if pdfs.is_dir():
        runs += [("PDFs, --executor in-process", [str(pdfs), "--executor", "in-process"]),
                 ("PDFs, default (auto)", [str(pdfs)])]
    took: dict[str, float] = {}
    for round_ in range(repeat):        # runs alternate, so a busy spell of the shared machine hits every kind
        for label, args in runs:
            before = _load()
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "engine.cli", "ingest", *args, "-q"], env=env, cwd=root,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - t
            took[label] = min(wall, took.get(label, wall))
            peer = took.get("PDFs, --executor in-process" if label.startswith("PDFs") else "--executor in-process")
            ratio = f", {peer / wall:.2f}× in-process (best so far)" if peer else ""
            print(f"[{round_ + 1}/{repeat}] ratingbt ingest {label}: {wall:.1f} s{ratio} "
                  f"(load before {before}, after {_load()})")
    print("best of each: " + "; ".join(f"{k} {v:.1f} s" for k, v in took.items()))


if __name__ == "__main__":
    if "--corpus" in sys.argv:
        corpus(int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1)
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
