"""Settings of the ``ratingbt`` process itself, applied once by :func:`engine.cli.main` before any command runs.

Only the command line's own process is tuned; a Python session that imports :mod:`engine` is left as it is (the
README's speed notes say how to apply the same settings there). Both settings change speed, never results:

- **numpy's huge-page advice off** (``NUMPY_MADVISE_HUGEPAGE=0`` unless already set). numpy asks the kernel for
  transparent huge pages on every array of 4 MB or more. With the common kernel setting
  ``/sys/kernel/mm/transparent_hugepage/defrag = madvise`` each such request may compact memory synchronously: on
  the reference VM a fresh 30 MB panel array took 80-100 ms instead of 17 ms, and ``ratingbt score`` of 100 k signals
  over the whole market 4.3 s instead of 3.7 s (median of five runs each, bench/RESULTS.md).
- **numba's BLAS probe skipped.** When numba loads its first function it imports ``numba.np.arraymath``, which
  imports all of ``scipy.linalg`` (0.2-0.4 s) only to learn whether a BLAS exists for ``np.correlate`` /
  ``np.convolve``. No ratingbt kernel uses them (nor ``np.dot``), so the probe is answered "no BLAS" and numba uses
  its plain loop there; ``np.dot`` and ``np.linalg`` still import scipy when a function using them is compiled.
"""

from __future__ import annotations

import os
import sys

__all__ = ["tune_process"]

_PROBE_MODULE = "numba.np.arraymath"
_PROBED = ("scipy", "scipy.linalg", "scipy.linalg.cython_blas")


class _SkipNumbaBlasProbe:
    """Meta-path finder that fails scipy's import only while ``numba.np.arraymath`` runs its BLAS probe (the module
    is in ``sys.modules`` but has no ``_HAVE_BLAS`` yet); every other import, and scipy at any other time, is
    untouched."""

    def find_spec(self, name: str, path=None, target=None):  # noqa: ANN001 - importlib's finder protocol
        if name in _PROBED and name not in sys.modules:
            probing = sys.modules.get(_PROBE_MODULE)
            if probing is not None and not hasattr(probing, "_HAVE_BLAS"):
                raise ImportError(f"{name} not imported for numba's BLAS probe (engine.commands._process)")
        return None


def tune_process() -> None:
    """Apply this module's settings to the current process (idempotent); call before numpy and numba load."""
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    if "numpy" in sys.modules:  # already imported (e.g. tests calling main()): set it through numpy itself
        try:
            from numpy._core.multiarray import _set_madvise_hugepage
        except ImportError:  # pragma: no cover - a numpy without the switch: leave it
            pass
        else:
            _set_madvise_hugepage(os.environ["NUMPY_MADVISE_HUGEPAGE"] != "0")
    if _PROBE_MODULE not in sys.modules and not any(isinstance(f, _SkipNumbaBlasProbe) for f in sys.meta_path):
        sys.meta_path.insert(0, _SkipNumbaBlasProbe())

