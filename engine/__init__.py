"""ratingbt: broker research reports → dated signals → scores, backtests and screens.

Data flows one way, each stage a plain documented table:
sources → signals table (:mod:`engine.signals`) → aligned price panel (:mod:`engine.data`) →
numba kernels (:mod:`engine.kernels`) → result tables → reports.
"""

__version__ = "0.1.0"
