"""Parameter sweeps in chunks: each chunk of variants is one kernel call plus its statistics, run anywhere.

1. :class:`SweepData` bundles what every chunk reads — the kernel arrays (:class:`engine.backtest.simulate.KernelInputs`),
   the weight sets in decision rows, the scaled benchmark and the statistics settings. It is sent once per worker
   (:meth:`engine.executor.Executor.share`), never per chunk.
2. :func:`run_chunk` simulates the chunk's variants in one call of
   :func:`engine.kernels.simulate.simulate_batch_nb` and returns one row of :func:`engine.stats.summary` per variant
   (plus ``orders_filled``, ``orders_rejected_or_cut``): only these rows travel back, never the equity curves.
3. :func:`run_sweep` splits the variants into chunks (:mod:`engine.executor.chunks`), runs them with
   :func:`engine.executor.run_tasks` (a failed chunk is retried once), saves each finished chunk atomically under
   ``store_dir`` (``runs/<name>/sweep_chunks/NNNN.parquet``) so an interrupted sweep resumes, and returns the table in
   variant order. Each variant is simulated independently, so the table equals a single-process run.

Money in the account currency; statistics are fractions (see :func:`engine.stats.summary`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest.simulate import KernelInputs, SimulationRules, params_matrix
from engine.executor import Executor, InProcessExecutor, run_tasks, worker_threads
from engine.executor.chunks import ChunkStore, chunk_ranges, default_chunk_size, fingerprint

__all__ = ["SweepData", "SweepChunk", "SweepError", "run_chunk", "run_sweep", "COUNT_COLUMNS"]

COUNT_COLUMNS = ("orders_filled", "orders_rejected_or_cut")


class SweepError(RuntimeError):
    """Chunks that failed twice; the message names their variants. Finished chunks stay on disk for a resume."""


@dataclass
class SweepData:
    """What every chunk reads (sent once per worker).

    ``weights``: ``(n_sets, n_sessions, n_assets)`` target weights already in decision rows
    (:func:`engine.backtest.run.to_decision_rows`), NaN = no instruction. ``bench_scaled``: benchmark level scaled
    to the starting cash (account currency) on the panel's sessions; ``bench_close``: the benchmark level the
    strategy's ``overlay`` reads. ``periods``: sessions per year; ``risk_free``: per year, fraction.
    ``strategy``: what :func:`strategies.load_strategy` needs to find the strategy's ``overlay`` on a worker, or
    ``None`` when it has none. ``use_low``: pass the lows to the kernel (some variant has a stop-loss).
    """

    inputs: KernelInputs
    weights: np.ndarray
    sessions: np.ndarray
    bench_scaled: pd.Series
    bench_close: pd.Series
    periods: float
    risk_free: float = 0.0
    strategy: str | None = None
    use_low: bool = False

    @property
    def row_active(self) -> np.ndarray:
        return ~np.isnan(self.weights).all(axis=2)

    def arrays(self) -> list[np.ndarray]:
        """Every array a chunk reads (kernel inputs, corporate actions, weights, sessions)."""
        acts = self.inputs.actions
        return ([v for v in vars(self.inputs).values() if isinstance(v, np.ndarray)]
                + [acts.ptr, acts.asset, acts.data, self.weights, self.sessions])

    def nbytes(self) -> int:
        """Bytes of the arrays sent to each worker (the transfer per worker)."""
        return int(sum(a.nbytes for a in self.arrays()) + self.bench_scaled.nbytes + self.bench_close.nbytes)


@dataclass
class SweepChunk:
    """Variants ``variants`` (indices into the sweep) with their kernel parameter rows (``params_matrix``) and,
    when the strategy has an ``overlay``, their strategy parameters (``model_dump()`` dicts)."""

    number: int
    variants: np.ndarray
    params: np.ndarray
    strategy_params: list[dict] | None = None


def _limit_threads() -> None:
    threads = worker_threads()
    if threads:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def run_chunk(chunk: SweepChunk, data: SweepData) -> pd.DataFrame:
    """One kernel call for the chunk's variants → statistics rows indexed by variant (see module docstring)."""
    from engine import stats
    from engine.kernels.simulate import simulate_batch_nb

    _limit_threads()
    inp = data.inputs
    low = inp.low if data.use_low else np.empty((0, 0))
    acts = inp.actions
    equity, cash, fees, traded, counts = simulate_batch_nb(
        data.weights, data.row_active, chunk.params, inp.open, low, inp.close, inp.scale, inp.basis, inp.tradable,
        inp.st, inp.board, inp.lot_step, inp.min_buy, inp.listing_idx, inp.fx_col, inp.fx, inp.fee_table,
        acts.ptr, acts.asset, acts.data)
    module = None
    if data.strategy is not None:
        from strategies import load_strategy

        module = load_strategy(data.strategy)
    idx = pd.DatetimeIndex(data.sessions, name="date")
    rows = []
    for i in range(len(chunk.variants)):
        eq = pd.Series(equity[i], index=idx)
        if module is not None and chunk.strategy_params is not None:
            eq = module.overlay(eq, pd.Series(cash[i], index=idx), data.bench_close,
                                module.Params(**chunk.strategy_params[i]))
        row = stats.summary(eq, data.bench_scaled, pd.Series(fees[i], index=idx), pd.Series(traded[i], index=idx),
                            data.periods, data.risk_free)
        row.update({COUNT_COLUMNS[0]: int(counts[i, 0]), COUNT_COLUMNS[1]: int(counts[i, 1])})
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(chunk.variants, name="variant"))


def _source_hash() -> str:
    """The code a chunk's numbers depend on (a resumed sweep must not mix two versions of the kernel)."""
    import engine.backtest.sweep as sweep_mod
    import engine.kernels.simulate as kernel_mod
    import engine.stats as stats_mod

    return fingerprint(*(Path(m.__file__).read_bytes() for m in (kernel_mod, stats_mod, sweep_mod)))


def run_sweep(data: SweepData, rules: Sequence[SimulationRules], set_of_variant: Sequence[int], *,
              executor: Executor | None = None, chunk_size: int | None = None, store_dir: Path | None = None,
              strategy_params: Sequence[dict] | None = None,
              progress: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Statistics of every variant (``rules[v]`` following ``data.weights[set_of_variant[v]]``), in variant order.

    ``executor``: where chunks run (default in-process). ``chunk_size``: variants per kernel call (default: one call
    in-process, about four chunks per worker otherwise). ``store_dir``: keep finished chunks there and reuse the
    ones of an identical earlier attempt (removed when the table is complete). ``strategy_params``: per variant,
    for the strategy's ``overlay``. ``progress(text)`` is called as chunks finish. Returns ``(table, notes)``;
    raises :class:`SweepError` naming the variants of chunks that failed twice.
    """
    executor = executor or InProcessExecutor()
    n = len(rules)
    params = params_matrix(rules, set_of_variant)
    size = chunk_size or default_chunk_size(n, executor.workers)
    ranges = chunk_ranges(n, size)
    chunks = [SweepChunk(k, np.arange(r.start, r.stop), params[r.start:r.stop],
                         list(strategy_params[r.start:r.stop]) if strategy_params is not None and data.strategy
                         else None) for k, r in enumerate(ranges)]
    notes: list[str] = []
    store = None
    done: set[int] = set()
    if store_dir is not None and len(chunks) > 1:
        key = fingerprint(_source_hash(), *data.arrays(),
                          data.bench_scaled, data.bench_close, data.periods, data.risk_free, data.strategy,
                          data.use_low, params, list(strategy_params or []), size)
        store = ChunkStore(Path(store_dir), key, len(chunks))
        done = store.open()
        if store.note:
            notes.append(store.note)
    frames: dict[int, pd.DataFrame] = {k: store.load(k) for k in done} if store else {}
    finished = [len(done)]

    def on_done(k: int, outcome) -> None:
        if outcome.ok:
            frames[k] = outcome.value
            if store is not None:
                store.save(k, outcome.value)
        finished[0] += 1
        if progress is not None:
            progress(f"sweep: {finished[0]}/{len(chunks)} chunks of {n} variants ({executor.describe()})")

    handle = executor.share(data) if len(chunks) > len(done) else None
    outcomes = run_tasks(executor, run_chunk, chunks, handle, retries=1, on_done=on_done, done=done)
    failed = [(chunks[o.index], o) for o in outcomes if o is not None and not o.ok]
    if failed:
        lines = [f"chunk {c.number} (variants {c.variants[0]}–{c.variants[-1]}) failed {o.attempts} times: {o.error}"
                 for c, o in failed]
        where = f"; the {len(frames)} finished chunks are kept in {store.folder} for a re-run" if store else ""
        raise SweepError("sweep: " + "; ".join(lines) + where)
    table = pd.concat([frames[k] for k in range(len(chunks))])
    if store is not None:
        store.clear()
    return table, notes
