"""Every module of steward imports on its own, in an interpreter where no other steward
module was imported first: no module depends on import order (the policies -> config ->
model -> policies cycle could hide behind the order the CLI happened to import things in).
"""

from __future__ import annotations

import importlib.util
import json
import pkgutil
import subprocess
import sys

import pytest

import steward

# Optional extras: a module needing one may fail to import only when the extra is absent.
EXTRAS = {"boto3", "botocore", "aws_cdk", "constructs", "build", "twine"}

# One interpreter imports each module in turn, after forgetting every steward module, so
# each import starts from no steward module at all (third-party modules stay loaded: they
# cannot hide an import cycle of steward's).
_SCRIPT = """
import importlib, json, sys
result = {}
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "steward" or m.startswith("steward.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        result[name] = ["missing", exc.name or "", str(exc)]
    except BaseException as exc:
        result[name] = ["error", type(exc).__name__, str(exc)]
print(json.dumps(result))
"""


def _modules() -> list[str]:
    names = ["steward"]
    for info in pkgutil.walk_packages(steward.__path__, "steward."):
        if not info.name.endswith(".__main__"):  # `python -m steward`: runs the CLI
            names.append(info.name)
    return sorted(names)


MODULES = _modules()


def _available(top: str) -> bool:
    return importlib.util.find_spec(top) is not None


def test_the_walk_finds_the_modules_that_once_formed_a_cycle() -> None:
    assert {"steward.policies.size", "steward.config.model", "steward.engine"} <= set(MODULES)
    assert len(MODULES) > 80


def test_every_module_imports_alone() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *MODULES],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    failures = json.loads(proc.stdout.strip().splitlines()[-1])
    broken = {}
    for name, (kind, what, message) in failures.items():
        top = what.split(".")[0]
        if kind == "missing" and top in EXTRAS and not _available(top):
            continue  # needs an extra that is not installed here
        broken[name] = f"{what}: {message}"
    assert broken == {}


@pytest.mark.parametrize(
    "module",
    ["steward.policies.size", "steward.config.release", "steward.config.pipeline"],
)
def test_a_fresh_interpreter_imports_a_policy_or_section_first(module: str) -> None:
    """The issue's own reproduction, in a really fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
