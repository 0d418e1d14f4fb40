"""Price providers behind one interface (:class:`Provider`): ``local`` files, ``akshare`` and ``yfinance``.

The network packages are imported lazily inside the providers, so ``import engine`` stays fast and a missing
package only fails the provider that needs it (:class:`ProviderUnavailable`), letting the chain fall back.
"""

from __future__ import annotations

import os

from engine.data.providers.base import (EmptyResult, NotSupported, Provider, ProviderError, ProviderTimeout,
                                        ProviderUnavailable, SchemaChanged)

__all__ = ["Provider", "ProviderError", "ProviderTimeout", "EmptyResult", "SchemaChanged", "NotSupported",
           "ProviderUnavailable", "PROVIDER_NAMES", "make_provider", "default_order"]

PROVIDER_NAMES = ("local", "akshare", "yfinance")


def make_provider(name: str, **options) -> Provider:
    """Build a provider by name (``local``, ``akshare``, ``yfinance``); ``options`` go to its constructor."""
    if name == "local":
        from engine.data.providers.local import LocalProvider

        return LocalProvider(**options)
    if name == "akshare":
        from engine.data.providers.akshare import AkshareProvider

        return AkshareProvider(**options)
    if name == "yfinance":
        from engine.data.providers.yfinance import YfinanceProvider

        return YfinanceProvider(**options)
    raise ValueError(f"unknown provider {name!r}; allowed: {', '.join(PROVIDER_NAMES)}")


def default_order() -> list[str]:
    """Provider order from ``RATINGBT_PROVIDERS`` (comma separated), default ``local,akshare,yfinance``."""
    raw = os.environ.get("RATINGBT_PROVIDERS", "local,akshare,yfinance")
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for n in names:
        if n not in PROVIDER_NAMES:
            raise ValueError(f"RATINGBT_PROVIDERS: unknown provider {n!r}; allowed: {', '.join(PROVIDER_NAMES)}")
    return names
