"""Powertools' E2E constants, resolved for the project under test instead of Powertools.

Powertools derives ``SOURCE_CODE_ROOT_PATH`` from its own package; here it is the project
being tested: the nearest folder, from the current directory up, holding a
``pyproject.toml``, ``setup.py`` or ``setup.cfg`` (else a ``.git``), else the current
directory. pytest runs from the project root in practice, so this is its rootdir.
"""

from __future__ import annotations

import sys
from pathlib import Path

_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def project_root(start: Path | None = None) -> Path:
    """The project root seen from ``start`` (default: the current directory)."""
    here = (start or Path.cwd()).resolve()
    candidates = [here, *here.parents]
    for folder in candidates:
        if any((folder / name).is_file() for name in _PROJECT_FILES):
            return folder
    for folder in candidates:
        if (folder / ".git").exists():
            return folder
    return here


PYTHON_RUNTIME_VERSION = f"V{''.join(map(str, sys.version_info[:2]))}"
SOURCE_CODE_ROOT_PATH = project_root()
CDK_OUT_PATH = SOURCE_CODE_ROOT_PATH / "cdk.out"
LAYER_BUILD_PATH = CDK_OUT_PATH / "layer_build"
