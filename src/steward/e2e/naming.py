"""Names and tags of E2E stacks: pure functions, so the plugin and the janitor agree."""

from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path

RUN_TAG = "steward:e2e:run-id"
FEATURE_TAG = "steward:e2e:feature"
DEFAULT_PREFIX = "steward-e2e"
INFRA_FILE = "infrastructure.py"
_NOT_NAME = re.compile(r"[^A-Za-z0-9-]+")
_WORD = re.compile(r"[A-Za-z0-9]+")


def new_run_id() -> str:
    """Short, unique enough for concurrent CI runs, valid inside a stack name."""
    return secrets.token_hex(4)


def asset_bucket(account: str, region: str) -> str:
    """steward's E2E asset bucket of an account and region: the deployer uploads Lambda code
    there, and the local runtime looks it up there first."""
    return f"steward-e2e-assets-{account}-{region}"


def python_tag(version: tuple[int, int] | None = None) -> str:
    major, minor = version or sys.version_info[:2]
    return f"py{major}{minor}"


def stack_name(prefix: str, feature: str, run_id: str, py: str | None = None) -> str:
    """`<prefix>-<feature>-<py311>-<run id>`: CloudFormation allows [A-Za-z][-A-Za-z0-9]*."""
    parts = [prefix, feature, py or python_tag(), run_id]
    name = "-".join(_NOT_NAME.sub("-", p).strip("-") for p in parts if p)
    if not name[:1].isalpha():
        name = "e2e-" + name
    return name[:128]


def pascal_case(stem: str) -> str:
    """`basic_handler` -> `BasicHandler` (the playbook's output naming)."""
    return "".join(w[:1].upper() + w[1:] for w in _WORD.findall(stem))


def feature_dir(path: Path, root: Path) -> Path | None:
    """The nearest folder holding an infrastructure.py, from `path` up to `root` inclusive."""
    here = path if path.is_dir() else path.parent
    root = root.resolve()
    here = here.resolve()
    while True:
        if (here / INFRA_FILE).is_file():
            return here
        if here in (root, here.parent) or root not in here.parents:
            return None
        here = here.parent
