"""`call_once`: run a task once per test session, whether or not pytest-xdist is on.

Workers share one temp root (the parent of each worker's basetemp); the first worker to take
the file lock runs the task and stores its JSON result there; the others wait on the lock and
read the result. The playbook's top-level conftest does the same for its Lambda layer.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock

T = TypeVar("T")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def shared_root(basetemp: Path, *, under_xdist: bool) -> Path:
    """The folder all workers of one session see: basetemp itself, or its parent under xdist."""
    return basetemp.parent if under_xdist else basetemp


def call_once(key: str, fn: Callable[[], T], *, root: Path, timeout: float = -1) -> T:
    """Run `fn` once for all processes sharing `root`; its result must be JSON-serialisable.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> call_once("answer", lambda: 42, root=root), call_once("answer", lambda: 0, root=root)
    (42, 42)
    """
    root.mkdir(parents=True, exist_ok=True)
    cache = root / f"steward-once-{_UNSAFE.sub('_', key)}.json"
    with FileLock(f"{cache}.lock", timeout=timeout):
        if cache.is_file():
            value: Any = json.loads(cache.read_text(encoding="utf-8"))["value"]
            return value  # type: ignore[no-any-return]
        result = fn()
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "value": result}), encoding="utf-8")
        tmp.replace(cache)
        return result
