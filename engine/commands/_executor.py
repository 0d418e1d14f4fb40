"""The ``--workers`` / ``--scheduler`` / ``--executor`` options shared by ``backtest``, ``run`` and ``ingest``."""

from __future__ import annotations

from typing import Any, Optional

import typer

__all__ = ["WORKERS", "SCHEDULER", "KIND", "with_executor_options", "executor_settings"]

WORKERS: Optional[int] = typer.Option(
    None, "--workers", min=1, help="Run on N local worker processes (a Dask LocalCluster; config key executor.workers).")
SCHEDULER: Optional[str] = typer.Option(
    None, "--scheduler", help="Run on the Dask cluster at this address, e.g. tcp://host:8786 (executor.scheduler).")
KIND: Optional[str] = typer.Option(
    None, "--executor", help="auto, in-process, processes (a plain local process pool) or dask (executor.kind).")


def executor_settings(base: Any, workers: int | None, scheduler: str | None, kind: str | None) -> Any:
    """``base`` (an :class:`engine.config.ExecutorConfig` or None) with the command-line values on top, validated.
    Raises :class:`engine.config.ConfigError` naming the option."""
    from pydantic import ValidationError

    from engine.config import ConfigError, ExecutorConfig, format_validation_error

    raw = base.model_dump() if base is not None else {}
    if workers is not None:
        raw.update(workers=workers, scheduler=None)
    if scheduler is not None:
        raw.update(scheduler=scheduler, workers=None)
    if kind is not None:
        raw["kind"] = kind
    try:
        return ExecutorConfig.model_validate(raw)
    except ValidationError as exc:
        text = format_validation_error(exc, "executor").replace("executor: (top level): ", "executor: ")
        raise ConfigError(text.replace("executor: kind:", "executor.kind:").replace(
            "executor: workers:", "executor.workers:")) from None


def with_executor_options(cfg: Any, workers: int | None, scheduler: str | None, kind: str | None) -> Any:
    """A backtest config whose ``executor`` section carries the command-line values."""
    if workers is None and scheduler is None and kind is None:
        return cfg
    return cfg.model_copy(update={"executor": executor_settings(cfg.executor, workers, scheduler, kind)})
