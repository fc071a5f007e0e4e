"""The playbook's E2E framework as a pytest plugin (opt-in).

Public names are loaded on first use, so the always-registered pytest entry point
(`steward.e2e.plugin`) stays cheap and never imports boto3 in projects that do not opt in.
`pytest -p steward.e2e` is one way to opt in (see docs/e2e.md).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BaseInfrastructure": "steward.e2e.infrastructure",
    "DeployContext": "steward.e2e.infrastructure",
    "Template": "steward.e2e.template",
    "call_once": "steward.e2e.once",
    "build_layer": "steward.e2e.layer",
}

__all__ = [
    "BaseInfrastructure",
    "DeployContext",
    "Template",
    "build_layer",
    "call_once",
    "data_fetcher",
]


def __getattr__(name: str) -> Any:
    if name == "data_fetcher":
        return importlib.import_module("steward.e2e.data_fetcher")
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
