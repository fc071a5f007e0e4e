"""`LocalLambdaPowertoolsLayer`: ``pip install`` a package into a layer folder, once.

Powertools installs itself from its checkout; here the package is the project under test
(`SOURCE_CODE_ROOT_PATH`), with the extras in ``STEWARD_E2E_LAYER_EXTRAS`` (e.g.
``all,redis``), or whatever ``STEWARD_E2E_LAYER_PACKAGE`` names (a requirement such as
``aws-lambda-powertools[all]==3.2.0`` or a wheel's path; pip's own environment, e.g.
``PIP_NO_INDEX``/``PIP_FIND_LINKS``, applies). Wheels are for Lambda's platform (manylinux,
the architecture asked), binary only. The build reruns only when the hash of the local
sources (`steward.e2e.layer.source_digest`), the spec, the platform or the Python version
moves; the hash is kept in ``<output_dir>/layer_build.diff`` and written after a build
succeeds. Architectures are `aws_cdk.aws_lambda.Architecture` members or the strings
``"x86_64"``/``"arm64"``, so this module never imports the CDK.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

from filelock import FileLock

from steward.e2e.compat.constants import CDK_OUT_PATH, SOURCE_CODE_ROOT_PATH
from steward.e2e.compat.lambda_layer.base import BaseLocalLambdaLayer
from steward.e2e.layer import source_digest
from steward.errors import StewardError

PACKAGE_ENV = "STEWARD_E2E_LAYER_PACKAGE"
EXTRAS_ENV = "STEWARD_E2E_LAYER_EXTRAS"
# What the Lambda Python runtime already ships, removed as Powertools' cleanup does.
RUNTIME_PROVIDED = ("boto", "s3transfer", "*dateutil", "urllib3", "six", "jmespath")
# Folders of a project that are not its package: left out of the source hash.
NOT_SOURCES = frozenset(
    {"tests", "test", "docs", "examples", "build", "dist", "cdk.out", "node_modules", "site"}
)
_EXTRAS = re.compile(r"^(?P<base>.*?)(?P<extras>\[[^\]]*\])?$")


def architecture_name(architecture: Any) -> str:
    """``"x86_64"`` or ``"arm64"`` for a CDK `Architecture` member or such a string."""
    return str(getattr(architecture, "name", architecture))


class LocalLambdaPowertoolsLayer(BaseLocalLambdaLayer):
    IGNORE_EXTENSIONS: ClassVar[list[str]] = ["pyc"]
    ARCHITECTURE_PLATFORM_MAPPING: ClassVar[dict[str, tuple[str, str]]] = {
        "x86_64": ("manylinux_2_17_x86_64", "manylinux_2_28_x86_64"),
        "arm64": ("manylinux_2_17_aarch64", "manylinux_2_28_aarch64"),
    }

    def __init__(self, output_dir: Path = CDK_OUT_PATH, architecture: Any = "x86_64") -> None:
        super().__init__(output_dir)
        self.package = os.environ.get(PACKAGE_ENV) or _project_spec(SOURCE_CODE_ROOT_PATH)
        self.platforms = self._platforms(architecture_name(architecture))
        self.platform_args = " ".join(f"--platform {p}" for p in self.platforms)
        self.build_args = f"{self.platform_args} --only-binary=:all: --upgrade"
        self.build_command: list[str] = [
            sys.executable,
            "-m",
            "pip",
            "install",
            self.package,
            *(arg for p in self.platforms for arg in ("--platform", p)),
            "--only-binary=:all:",
            "--upgrade",
            "--target",
            self.target_dir,
        ]
        self.source_diff_file: Path = Path(output_dir) / "layer_build.diff"

    def build(self) -> str:
        """Install the package into ``python/`` unless nothing moved; returns the folder
        holding ``python/``. A file lock keeps workers from building at the same time."""
        self.before_build()
        with FileLock(f"{self.output_dir}.lock"):
            digest = self._digest()
            if self._has_source_changed(digest):
                shutil.rmtree(self.target_dir, ignore_errors=True)
                self._pip()
                self.after_build()
                self.source_diff_file.write_text(digest + "\n", encoding="utf-8")
        return str(self.output_dir)

    def after_build(self) -> None:
        """Powertools' cleanup: drop what the runtime ships, tests, bytecode."""
        target = Path(self.target_dir)
        if not target.is_dir():
            return
        for pattern in RUNTIME_PROVIDED:
            for path in target.glob(f"{pattern}*"):
                _remove(path)
        for folder, dirs, files in os.walk(target, topdown=True):
            here = Path(folder)
            for name in list(dirs):
                if name in {"tests", "__pycache__"}:
                    shutil.rmtree(here / name, ignore_errors=True)
                    dirs.remove(name)
            for name in files:
                if name.endswith((".pyc", ".pyo")):
                    (here / name).unlink(missing_ok=True)

    def _has_source_changed(self, digest: str | None = None) -> bool:
        """Whether the recorded hash differs from the current one, or nothing is built."""
        digest = digest or self._digest()
        try:
            recorded = self.source_diff_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            recorded = ""
        return recorded != digest or not Path(self.target_dir).is_dir()

    def _digest(self) -> str:
        key = "|".join([self.package, *self.platforms, sys.version.split()[0]])
        return source_digest(_local_sources(self.package), key)

    def _pip(self) -> None:
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        result = subprocess.run(
            self.build_command, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-8:]
            raise StewardError(
                f"layer build failed: pip install {self.package} exited {result.returncode}"
                f" (set {PACKAGE_ENV} to a requirement or a wheel to install another package):\n"
                + "\n".join(tail)
            )

    def _platforms(self, name: str) -> tuple[str, str]:
        platforms = self.ARCHITECTURE_PLATFORM_MAPPING.get(name)
        if not platforms:
            raise ValueError(
                f"unknown architecture {name}. "
                f"Supported: {', '.join(self.ARCHITECTURE_PLATFORM_MAPPING)}",
            )
        return platforms

    def _resolve_platform(self, architecture: Any) -> str:
        """pip's platform arguments, as one string (Powertools' method)."""
        return " ".join(f"--platform {p}" for p in self._platforms(architecture_name(architecture)))


def _project_spec(root: Path) -> str:
    extras = ",".join(e.strip() for e in os.environ.get(EXTRAS_ENV, "").split(",") if e.strip())
    return f"{root}[{extras}]" if extras else str(root)


def _local_sources(spec: str) -> list[Path]:
    """What the spec installs from this machine: a wheel, or a project folder's package
    files; nothing for a requirement pip resolves from an index (its text is the key)."""
    match = _EXTRAS.match(spec.strip())
    path = Path(match.group("base") if match else spec)
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    sources: list[Path] = []
    for child in sorted(path.iterdir()):
        if child.name.startswith(".") or child.name in NOT_SOURCES:
            continue
        project_file = child.is_file() and child.name in {"pyproject.toml", "setup.py", "setup.cfg"}
        package = child.is_dir() and (child.name == "src" or (child / "__init__.py").is_file())
        if project_file or package:
            sources.append(child)
    return sources


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
