"""The registry: every policy module under `steward/policies/`, found by looking.

Adding a policy is adding one file that exports ``POLICY``; nothing else names it. Modules
are imported on the first call (never at import time), so importing one policy, or the
config package, does not import the others and no module depends on import order.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING, Any

from steward.policies.policy import STAGES, Policy, Stage

if TYPE_CHECKING:
    from steward.config.model import StewardConfig
    from steward.domain.events import Event

# Modules of the package that are not policies (shared helpers and the registry itself).
HELPERS = frozenset({"common", "context", "policy", "registry"})


@cache
def policies() -> tuple[Policy[Any], ...]:
    """Every policy, by stage then order."""
    import steward.policies as package

    found: list[Policy[Any]] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in HELPERS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        policy = getattr(module, "POLICY", None)
        if not isinstance(policy, Policy):
            raise RuntimeError(
                f"{module.__name__} exports no POLICY: a policy module must "
                f"(or add it to {__name__}.HELPERS)"
            )
        if policy.name != info.name:  # the config's keys are known without importing
            raise RuntimeError(f"{module.__name__}'s POLICY must be named {info.name!r}")
        found.append(policy)
    names = [p.name for p in found]
    for name in names:
        if names.count(name) > 1:
            raise RuntimeError(f"two policies are named {name!r}")
    return tuple(sorted(found, key=lambda p: (STAGES.index(p.stage), p.order, p.name)))


def get(name: str) -> Policy[Any]:
    for policy in policies():
        if policy.name == name:
            return policy
    raise KeyError(name)


def stage(which: Stage) -> tuple[Policy[Any], ...]:
    return tuple(p for p in policies() if p.stage == which)


def handling(event: Event, config: StewardConfig) -> tuple[Policy[Any], ...]:
    """The policies that run on ``event`` (both stages), in order: those that declare its
    name and action and are enabled in ``config``. A policy is never called otherwise, so
    its ``evaluate`` starts with its decision, not with checks."""
    return tuple(
        p
        for p in policies()
        if p.evaluate is not None and p.handles(event) and p.of(config).enabled
    )


def event_names() -> tuple[str, ...]:
    """Every webhook event a policy handles, in registry order (the App subscribes to them)."""
    names: dict[str, None] = {}
    for policy in policies():
        names.update(dict.fromkeys(policy.events))
    return tuple(names)
