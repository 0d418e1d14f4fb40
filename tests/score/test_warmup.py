"""engine.score.warmup: loads the scoring kernels with the argument types a real scoring call uses."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from numba.core.registry import CPUDispatcher

import engine.kernels
from engine.data.cache import PriceCache
from engine.data.load import load_panel
from engine.paths import REPO_ROOT
from engine.score import run_scoring
from engine.score.warmup import warm_up
from engine.signals.schema import complete_row
from tests.data.fakes import bars


def _kernel_signatures() -> dict[str, set]:
    out = {}
    for info in pkgutil.iter_modules(engine.kernels.__path__):
        module = importlib.import_module(f"engine.kernels.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher):
                out[f"{info.name}.{name}"] = {str(sig) for sig in obj.signatures}
    return out


def check_real_call_after_warm_up(tmp_path, warm: bool = True) -> None:
    """Run in a fresh process (kernels already loaded by other tests would hide a miss)."""
    if warm:
        warm_up()
    warmed = _kernel_signatures()
    assert warmed["forward_returns.forward_returns_rows_nb"] and warmed["forward_returns.last_bar_index_nb"]
    # the real thing, loaded the way `ratingbt score` loads it: close only, column-major
    days = pd.bdate_range("2024-01-02", periods=60).strftime("%Y-%m-%d").tolist()
    cache = PriceCache(Path(tmp_path))
    for code, level in (("600519.SH", 1500.0), ("000300.SH", 3500.0), ("300474.SZ", 40.0)):
        frame = bars(days, list(level * (1 + 0.01 * np.sin(np.arange(60)))))
        cache.write(code, frame, covered=[(frame["date"].iloc[0], frame["date"].iloc[-1])], source="local")
    panel = load_panel(["600519.SH", "300474.SZ", "000300.SH"], days[0], days[-1], offline=True, cache=cache,
                       fields=("close",), order="F", on_missing="ignore")
    signals = pd.DataFrame([complete_row({"signal_id": f"s{i}", "broker": "某证券", "report_date": pd.Timestamp(days[i]),
                                          "code": code, "market": "A", "kind": "rating", "rating": "增持",
                                          "rating_level": 1.0, "horizon_months": "1", "band_low": 0.05,
                                          "band_high": 0.15})
                            for i, code in ((3, "600519.SH"), (10, "300474.SZ"), (20, "600519.SH"))])
    result = run_scoring(signals, panel)
    assert result.scores["status"].astype(str).tolist() == ["complete"] * 3
    assert _kernel_signatures() == warmed  # every kernel the real call used was loaded by the warm-up, as is


def _in_fresh_process(tmp_path, warm: bool) -> subprocess.CompletedProcess:
    code = (f"from tests.score.test_warmup import check_real_call_after_warm_up\n"
            f"check_real_call_after_warm_up({str(tmp_path)!r}, warm={warm})\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})


def test_a_real_scoring_call_after_warm_up_needs_no_new_kernel(tmp_path):
    done = _in_fresh_process(tmp_path / "warm", warm=True)
    assert done.returncode == 0, done.stderr[-3000:]
    cold = _in_fresh_process(tmp_path / "cold", warm=False)  # the check itself can fail: without the warm-up it does
    assert cold.returncode != 0 and "AssertionError" in cold.stderr
