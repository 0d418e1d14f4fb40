"""The broker section of report.html in Debian's headless Chromium: charts present, no console errors, screenshot.

Same approach as ``tests/report/test_report_browser.py``: ``--dump-dom`` after a virtual-time budget shows the DOM
the scripts left (``data-js-errors`` collects script errors) and ``--enable-logging=stderr`` echoes console messages.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess

import pytest

from engine.brokers.inputs import read_ratings
from engine.brokers.run import load_prices, run_brokers

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=20000"]


def _chromium(url: str, profile, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=180, check=False)


def test_broker_section_renders_in_headless_chromium(small_world, tmp_path):
    read = read_ratings(small_world["ratings"])
    panel = load_prices(read.signals, market=small_world["market"], benchmarks=(small_world["bench"],))
    run = run_brokers(read.signals, panel, min_ratings=5, min_events=2, notes=read.notes + ["<b>not bold</b>"])
    report = run.write_report(tmp_path / "run" / "report.html", run_name="brokers-test")
    url = report.resolve().as_uri()

    dom_run = _chromium(url, tmp_path / "profile-dom", "--enable-logging=stderr", "--v=0", "--dump-dom")
    dom = dom_run.stdout
    assert dom_run.returncode == 0, dom_run.stderr[-2000:]
    assert 'data-js-errors="' not in dom, re.findall(r'data-js-errors="[^"]*"', dom)
    console = [line for line in dom_run.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    section = re.search(r'<section id="brokers">(.*?)</section>', dom, re.S).group(1)
    # forest, hit vs n, excess by level, all-broker events, and per-broker event charts: inline SVG with marks
    assert section.count('<figure class="bchart"><svg') >= 4
    assert section.count("<path") > 50
    assert "League" in section or "Brokers (3)" in section
    assert "&lt;b&gt;not bold&lt;/b&gt;" in section and "<b>not bold</b>" not in section
    assert re.search(r'data-charts-rendered="[1-9]', dom), "the report's own plotly charts did not render"

    shot = tmp_path / "brokers.png"
    _chromium(url, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,2400")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 2400)
    assert len(data) > 50_000  # a blank page compresses to a few KB
