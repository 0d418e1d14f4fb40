"""The fallback chain: try providers in order, with timeouts, retries with back-off and a per-provider rate limit.

Algorithm of :meth:`ProviderChain.fetch` for one ``(code, start, end)``:

1. for each provider in ``order``: wait until ``min_interval`` seconds have passed since that provider's previous
   call (:class:`RateLimiter`);
2. run ``provider.fetch`` in a daemon worker thread and give up after ``timeout`` seconds (:class:`ProviderTimeout`;
   the thread cannot be killed and is left to finish in the background);
3. on a *transient* error (timeout, network error, empty answer) retry up to ``retries`` more times, sleeping
   ``backoff * 2**k`` seconds (capped at ``max_backoff``) before retry ``k``; on a permanent error (schema changed,
   instrument not supported, package missing) move on at once;
4. the first provider that returns rows wins; if all fail, raise :class:`AllProvidersFailed` naming every provider,
   its last error, the symbol and the date range;
5. a provider whose calls fail with *network* errors (cannot reach the host, time-outs) for ``unreachable_after``
   symbols in a row (one symbol when its host name does not resolve), with no success in between, is marked
   unreachable and skipped for the
   rest of the chain's life (recorded as an attempt saying so), so an offline machine does not spend minutes on
   retries. Data errors (unknown symbol, empty answer without a network reason) never trip it.

``sleep`` and ``clock`` are injectable so tests run without real waiting.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import pandas as pd

from engine.data.bars import BarsInvalidError, validate_bars
from engine.data.providers.base import Provider, ProviderError, ProviderTimeout, to_date

__all__ = ["ProviderChain", "ChainSettings", "AllProvidersFailed", "RateLimiter", "Attempt", "is_network_error",
           "forget_unreachable"]

log = logging.getLogger(__name__)


@dataclass
class ChainSettings:
    """Timing of provider calls. Units: seconds. ``retries`` = extra attempts after the first, per provider."""

    timeout: float = 30.0
    retries: int = 2
    backoff: float = 1.0
    max_backoff: float = 30.0
    min_interval: dict[str, float] = field(default_factory=lambda: {"akshare": 1.0, "yfinance": 0.5, "local": 0.0})
    unreachable_after: int = 2  # symbols in a row failing with network errors before a provider is skipped
    unreachable_ttl: float = 600.0  # seconds a provider stays marked unreachable (shared by chains in a process)


#: provider name -> (monotonic time it was marked, the error): shared by every chain of the process, so the second
#: stage of a run does not rediscover that the network is down. Entries expire after ``unreachable_ttl``.
_UNREACHABLE: dict[str, tuple[float, str]] = {}


def forget_unreachable() -> None:
    """Clear the process-wide memory of unreachable providers (tests; or after the network comes back)."""
    _UNREACHABLE.clear()


_NETWORK_TEXT = re.compile(
    r"resolve host|name or service not known|nameresolution|temporary failure in name resolution|dnserror|"
    r"failed to establish|connection (?:refused|reset|aborted)|max retries exceeded|network is unreachable|"
    r"timed out|did not answer within|curl: \((?:6|7|28)\)", re.I)


_DNS_TEXT = re.compile(r"resolve host|name or service not known|nameresolution|temporary failure in name "
                       r"resolution|dnserror|curl: \(6\)", re.I)


def is_dns_error(exc: BaseException) -> bool:
    """True when ``exc`` says the provider's host name could not be resolved (no network or no DNS)."""
    return bool(_DNS_TEXT.search(str(exc)))


def is_network_error(exc: BaseException) -> bool:
    """True when ``exc`` says the host could not be reached (not that the data was missing or malformed)."""
    if isinstance(exc, (ProviderTimeout, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, OSError) and not isinstance(exc, (FileNotFoundError, PermissionError)):
        return True
    return bool(_NETWORK_TEXT.search(str(exc)))


@dataclass(frozen=True)
class Attempt:
    """One provider call: which provider, which try (1-based), the error text (``""`` on success), seconds taken."""

    provider: str
    attempt: int
    error: str
    seconds: float


class AllProvidersFailed(RuntimeError):
    """Every provider of the chain failed for ``code`` over ``start..end``; ``attempts`` has each call's error."""

    def __init__(self, code: str, start: dt.date, end: dt.date, attempts: list[Attempt]):
        self.code, self.start, self.end, self.attempts = code, start, end, attempts
        last: dict[str, Attempt] = {}
        tries: dict[str, int] = {}
        for a in attempts:
            last[a.provider] = a
            tries[a.provider] = tries.get(a.provider, 0) + 1
        parts = [f"{p} ({tries[p]} attempt{'s' if tries[p] > 1 else ''}): {a.error}" for p, a in last.items()]
        providers = ", ".join(last) or "no providers configured"
        super().__init__(f"no provider could supply {code} for {start}..{end} (tried {providers}): "
                         + "; ".join(parts))


class RateLimiter:
    """Enforces a minimum interval (seconds) between successive calls of each named provider."""

    def __init__(self, min_interval: dict[str, float], clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.min_interval = dict(min_interval)
        self.clock, self.sleep = clock, sleep
        self._last: dict[str, float] = {}

    def wait(self, name: str) -> float:
        """Sleep until ``name`` may be called again; returns the seconds slept."""
        gap = self.min_interval.get(name, 0.0)
        waited = 0.0
        if name in self._last and gap > 0:
            due = self._last[name] + gap
            now = self.clock()
            if now < due:
                waited = due - now
                self.sleep(waited)
        self._last[name] = self.clock()
        return waited


class ProviderChain:
    """Ordered providers with timeouts, retries and rate limits (see module docstring for the algorithm)."""

    def __init__(self, providers: Sequence[Provider], settings: ChainSettings | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        if not providers:
            raise ValueError("ProviderChain needs at least one provider")
        self.providers = list(providers)
        self.settings = settings or ChainSettings()
        self.sleep = sleep
        self.limiter = RateLimiter(self.settings.min_interval, clock=clock, sleep=sleep)
        self.attempts: list[Attempt] = []
        self._network_strikes: dict[str, int] = {}
        self._clock = clock

    @property
    def unreachable(self) -> dict[str, str]:
        """Providers currently skipped as unreachable (name → the error that marked them), process-wide."""
        now = self._clock()
        for name, (since, _) in list(_UNREACHABLE.items()):
            if now - since > self.settings.unreachable_ttl:
                del _UNREACHABLE[name]
        return {name: error for name, (_, error) in _UNREACHABLE.items()}

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.providers]

    def _call(self, provider: Provider, code: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """``provider.fetch`` in a daemon thread, abandoned after ``timeout`` seconds (a hung network call cannot
        be killed, but a daemon thread does not keep the process alive at exit either)."""
        if self.settings.timeout is None or self.settings.timeout <= 0:
            return provider.fetch(code, start, end)
        box: dict[str, object] = {}

        def target() -> None:
            try:
                box["result"] = provider.fetch(code, start, end)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                box["error"] = exc

        worker = threading.Thread(target=target, name=f"ratingbt-{provider.name}", daemon=True)
        worker.start()
        worker.join(self.settings.timeout)
        if worker.is_alive():
            raise ProviderTimeout(f"{provider.name} did not answer within {self.settings.timeout:g} s")
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["result"]  # type: ignore[return-value]

    def fetch(self, code: str, start, end) -> tuple[pd.DataFrame, str]:
        """``(bars, provider name)`` from the first provider that succeeds; raises :class:`AllProvidersFailed`."""
        start_d, end_d = to_date(start), to_date(end)
        attempts: list[Attempt] = []
        unreachable = self.unreachable
        for provider in self.providers:
            if provider.name in unreachable:
                attempts.append(Attempt(provider.name, 0, f"skipped: unreachable earlier in this run "
                                                          f"({unreachable[provider.name]})", 0.0))
                continue
            network_failed = dns_failed = False
            for k in range(self.settings.retries + 1):
                if k > 0:
                    self.sleep(min(self.settings.backoff * 2 ** (k - 1), self.settings.max_backoff))
                self.limiter.wait(provider.name)
                t0 = time.perf_counter()
                try:
                    df = self._call(provider, code, start_d, end_d)
                    if df is None or len(df) == 0 or df["close"].isna().all():
                        raise ProviderError(f"{provider.name} returned an empty frame")
                    issues = validate_bars(df, code)
                    if issues:
                        raise BarsInvalidError(f"{provider.name} answer", issues)
                except BarsInvalidError as exc:
                    attempts.append(Attempt(provider.name, k + 1, str(exc), time.perf_counter() - t0))
                    break  # bad data will not get better on retry
                except ProviderError as exc:
                    attempts.append(Attempt(provider.name, k + 1, f"{type(exc).__name__}: {exc}",
                                            time.perf_counter() - t0))
                    network_failed = network_failed or is_network_error(exc)
                    dns_failed = dns_failed or is_dns_error(exc)
                    if not exc.transient:
                        break
                    continue
                except Exception as exc:  # noqa: BLE001 - a package's own failure must not stop the chain
                    # network errors (OSError, requests' errors) are retried; parse errors from a changed
                    # endpoint (KeyError, TypeError, ValueError inside the package) are not
                    attempts.append(Attempt(provider.name, k + 1, f"{type(exc).__name__}: {exc}",
                                            time.perf_counter() - t0))
                    network_failed = network_failed or is_network_error(exc)
                    dns_failed = dns_failed or is_dns_error(exc)
                    if not isinstance(exc, (OSError, ConnectionError, TimeoutError)):
                        break
                    continue
                self._network_strikes[provider.name] = 0
                attempts.append(Attempt(provider.name, k + 1, "", time.perf_counter() - t0))
                self.attempts.extend(attempts)
                log.info("fetched %s %s..%s from %s (%d rows)", code, start_d, end_d, provider.name, len(df))
                return df, provider.name
            if network_failed:
                strikes = self._network_strikes.get(provider.name, 0) + 1
                self._network_strikes[provider.name] = strikes
                # a host name that does not resolve on every try is no passing fault: one symbol is enough
                if strikes >= (1 if dns_failed else self.settings.unreachable_after):
                    _UNREACHABLE[provider.name] = (self._clock(), attempts[-1].error)
                    log.warning("%s unreachable (%s); skipping it for the rest of this run", provider.name,
                                "its host name does not resolve" if dns_failed
                                else f"{strikes} symbols in a row failed with network errors")
        self.attempts.extend(attempts)
        raise AllProvidersFailed(code, start_d, end_d, attempts)

    def after(self, name: str) -> "ProviderChain | None":
        """The chain of the providers after ``name`` (same settings, rate limiter and attempt log), or None when
        ``name`` is the last one: what is asked for the part of a range ``name`` could not supply."""
        names = self.names
        if name not in names or names.index(name) == len(names) - 1:
            return None
        rest = ProviderChain(self.providers[names.index(name) + 1:], self.settings, sleep=self.sleep,
                             clock=self._clock)
        rest.limiter = self.limiter
        rest.attempts = self.attempts
        rest._network_strikes = self._network_strikes
        return rest

    def close(self) -> None:
        """Nothing to release (worker threads are per call and daemonic); kept for callers that close chains."""


def build_chain(order: Iterable[str] | str | None = None, settings: ChainSettings | None = None,
                **provider_options) -> ProviderChain:
    """A chain from provider names (``"local,akshare,yfinance"`` or a list); see :func:`engine.data.providers.make`."""
    from engine.data.providers import make_provider, default_order

    names = default_order() if order is None else order
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    return ProviderChain([make_provider(n, **provider_options.get(n, {})) for n in names], settings)


__all__.append("build_chain")
