"""Configuration: the playbook as defaults, `.github/steward.yml` to change them.

Nothing is imported here eagerly: policies import `steward.config.base`, and the model
imports the policy registry, so an eager import would make them depend on import order.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steward.config.loader import find_config, load_config, parse_config
    from steward.config.model import StewardConfig

__all__ = ["StewardConfig", "find_config", "load_config", "parse_config"]

_WHERE = {
    "StewardConfig": "steward.config.model",
    "find_config": "steward.config.loader",
    "load_config": "steward.config.loader",
    "parse_config": "steward.config.loader",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
