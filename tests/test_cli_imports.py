"""Issue 10: ``ratingbt --help`` loads none of the heavy packages; each command imports them when it runs."""

from __future__ import annotations

import subprocess
import sys

from engine.paths import REPO_ROOT

HEAVY = ("pandas", "numpy", "numba", "vectorbt", "plotly", "scipy", "akshare", "yfinance", "pyarrow", "duckdb")


def test_help_pages_import_no_heavy_package():
    code = ("import sys\n"
            "from typer.testing import CliRunner\n"
            "from engine.cli import app\n"
            "for page in ([], ['run'], ['screen'], ['score'], ['ingest'], ['backtest'], ['data'], ['data', 'fetch'],"
            " ['ratings'], ['ratings', 'propose'], ['ratings', 'coverage']):\n"
            "    assert CliRunner().invoke(app, [*page, '--help']).exit_code == 0, page\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True,
                         env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
