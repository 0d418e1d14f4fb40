"""Browser test: Debian's headless Chromium opens report.html from disk, the charts render, a screenshot is saved.

No CDP client or browser download is needed: the report marks ``<html data-charts-rendered="N">`` once every
``Plotly.newPlot`` promise has resolved and records script errors on ``data-js-errors``; ``--dump-dom`` after a
virtual-time budget shows both, and ``--enable-logging=stderr --v=0`` echoes every console message as
``INFO:CONSOLE``. Skips cleanly when chromium is absent (``.ci/run`` installs it).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from engine.report import write_report
from tests.report.conftest import EVIL

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=20000"]


def _chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=120, check=False)


def test_report_renders_in_headless_chromium(tables, tmp_path):
    report = write_report(tmp_path / "run" / "report.html", title="Seeds", run_name=EVIL, **tables)
    url = report.resolve().as_uri()

    dom_run = _chromium(url, tmp_path / "profile-dom", "--enable-logging=stderr", "--v=0", "--dump-dom")
    dom = dom_run.stdout
    assert dom_run.returncode == 0, dom_run.stderr[-2000:]
    assert 'data-charts-rendered="11"' in dom, "not every chart finished Plotly.newPlot"
    assert 'data-js-errors="' not in dom, re.findall(r'data-js-errors="[^"]*"', dom)
    # each of the eleven chart divs holds plotly's SVG (7 performance charts, screen, distribution, 2 event studies)
    assert len(re.findall(r'<div class="chart js-plotly-plot" id="chart-\d+"', dom)) == 11
    assert dom.count('class="main-svg"') >= 11
    # the event study shows N under its points (a second panel titled "N signals", one per grouping) and grey
    # markers where fewer than 5 signals back a point; the new performance charts are drawn
    assert dom.count(">N signals</text>") == 2
    assert "fewer than 5 signals" in dom
    for title in ("Yearly returns", "Rolling 6-month statistics", "Daily returns (histogram)"):
        assert title in dom, title
    assert "Worst drawdowns (top 5)" in dom
    fit = re.search(r'data-tables-fit="(\d+)/(\d+)"', dom)
    assert fit and fit.group(1) == fit.group(2) and int(fit.group(2)) >= 4, fit  # every table inside its card
    assert 'class="heatmaplayer' in dom and "class=\"boxlayer" in dom
    console = [line for line in dom_run.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console  # no console errors (nor CSP violations, nor warnings) at all
    # the escaped broker name is text in the DOM, never a script element
    assert "<script>alert(1)</script>" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom

    shot = tmp_path / "report.png"
    _chromium(url, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.exists()
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2000)
    assert len(data) > 50_000  # a blank page compresses to a few KB; charts and tables do not
