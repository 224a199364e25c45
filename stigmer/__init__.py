"""Stigmer: a Kubernetes-style declarative control plane for AI-agent resources.

The public API is re-exported here and imported lazily, so that ``import
stigmer`` (and ``stigmer --version``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> module that defines it.
_EXPORTS = {
    "Client": "stigmer.client",
    "ApplyReport": "stigmer.client",
    "Diff": "stigmer.client",
    "Result": "stigmer.reconcilers.framework",
    "Change": "stigmer.reconcilers.events",
    "Iam": "stigmer.iam",
    "Store": "stigmer.store",
    "open_store": "stigmer.store",
    "StigmerError": "stigmer.errors",
    "UsageError": "stigmer.errors",
    "Problem": "stigmer.errors",
    "ManifestError": "stigmer.errors",
    "InvalidResource": "stigmer.errors",
    "Forbidden": "stigmer.errors",
    "StepFailed": "stigmer.errors",
    "StoreError": "stigmer.errors",
    "NotFound": "stigmer.errors",
    "AlreadyExists": "stigmer.errors",
    "Conflict": "stigmer.errors",
    "StoreClosed": "stigmer.errors",
}

__all__ = [
    "AlreadyExists",
    "ApplyReport",
    "Change",
    "Client",
    "Conflict",
    "Diff",
    "Forbidden",
    "Iam",
    "InvalidResource",
    "ManifestError",
    "NotFound",
    "Problem",
    "Result",
    "StepFailed",
    "StigmerError",
    "Store",
    "StoreClosed",
    "StoreError",
    "UsageError",
    "__version__",
    "open_store",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stigmer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
