"""Find a feature's folder and load the stack class its infrastructure.py defines."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

from steward.e2e.infrastructure import BaseInfrastructure
from steward.e2e.naming import INFRA_FILE
from steward.errors import UsageError


def import_infrastructure(folder: Path) -> ModuleType:
    """Import `<folder>/infrastructure.py` under its package name when it has one, so a
    conftest that imports it too gets the same module and classes."""
    path = folder / INFRA_FILE
    parts = ["infrastructure"]
    base = folder
    while (base / "__init__.py").is_file():
        parts.insert(0, base.name)
        base = base.parent
    if len(parts) > 1 and str(base) in sys.path:
        return importlib.import_module(".".join(parts))
    name = "steward_e2e_features." + "_".join(p for p in folder.parts[-3:] if p.isidentifier())
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def stack_class(folder: Path) -> type[BaseInfrastructure]:
    """The one BaseInfrastructure subclass defined in the feature's infrastructure.py."""
    module = import_infrastructure(folder)
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, BaseInfrastructure)
        and obj.__module__ == module.__name__
    ]
    leaves = [c for c in found if not any(o is not c and issubclass(o, c) for o in found)]
    if len(leaves) != 1:
        names = ", ".join(sorted(c.__name__ for c in leaves)) or "none"
        raise UsageError(
            f"{folder / INFRA_FILE} must define exactly one BaseInfrastructure subclass "
            f"(found: {names})"
        )
    return leaves[0]
