"""`BaseInfrastructure` and `call_once` with Powertools' names, on steward's CDK stacks.

`BaseInfrastructure` is a `steward.e2e.cdk.CdkInfrastructure`: steward's stack names and
tags, its direct deployer (no CDK CLI, no bootstrap) and its idempotent `delete()`. What
Powertools' ``infrastructure.py`` modules and conftests use is kept: the no-argument
constructor (the run id comes from the plugin through the environment), ``stack``,
``app``, ``session``, ``cfn``, ``account_id``, ``region``, ``stack_outputs``, and
`create_lambda_functions` as Powertools builds them (every ``handlers/**/*.py``, a
Powertools layer, a one-day log group per function, outputs ``<Pascal>``/``<Pascal>Arn``).
The layer is the plugin's zip when there is one, else a `LocalLambdaPowertoolsLayer` build.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from steward.e2e import once
from steward.e2e.cdk import CdkInfrastructure
from steward.e2e.compat.base import InfrastructureProvider
from steward.e2e.compat.constants import PYTHON_RUNTIME_VERSION
from steward.e2e.compat.lambda_layer.powertools_layer import (
    LocalLambdaPowertoolsLayer,
    architecture_name,
)
from steward.e2e.deployer import CloudFormationDeployer
from steward.e2e.infrastructure import DeployContext

LAYER_NAME = "aws-lambda-powertools-e2e-test"


def powertools_pascal(stem: str) -> str:
    """Powertools' output naming: ``basic_handler`` -> ``BasicHandler``, ``v2_api`` -> ``V2Api``."""
    return stem.title().replace("_", "")


class BaseInfrastructure(CdkInfrastructure, InfrastructureProvider):
    """Subclass it in ``tests/e2e/<feature>/infrastructure.py`` and override
    ``create_resources``, exactly as with Powertools' class."""

    def __init__(
        self,
        *,
        context: DeployContext | None = None,
        deployer: CloudFormationDeployer | None = None,
        out_dir: Path | None = None,
    ) -> None:
        super().__init__(context=context, deployer=deployer, out_dir=out_dir)
        self.stack_outputs: dict[str, str] = {}
        self._handlers_dir = self.feature_path / "handlers"

    def create_lambda_functions(
        self, function_props: dict[str, Any] | None = None, architecture: Any = None
    ) -> dict[str, Any]:
        """One ``aws_lambda.Function`` per ``handlers/**/*.py`` (construct id
        ``<stem>-lambda``, handler ``<stem>.lambda_handler``), with the layer, active
        tracing, the running Python's runtime, a log group kept one day and deleted with
        the stack; ``function_props`` override. Returns ``{<Pascal>: Function}``."""
        import aws_cdk as cdk  # imported (with steward's settings) by CdkInfrastructure

        lam = cdk.aws_lambda
        arch = lam.Architecture.ARM_64 if _is_arm(architecture) else lam.Architecture.X86_64
        if not self._handlers_dir.exists():
            raise RuntimeError(
                f"Handlers dir '{self._handlers_dir}' must exist for functions to be created."
            )
        runtime = _runtime(lam, self.runtime or "python{}.{}".format(*sys.version_info[:2]))
        layer = lam.LayerVersion(
            self.stack,
            LAYER_NAME,
            layer_version_name=LAYER_NAME,
            compatible_runtimes=_python_runtimes(lam, runtime),
            compatible_architectures=[arch],
            code=lam.Code.from_asset(self._layer_asset(arch)),
        )
        source = lam.Code.from_asset(str(self._handlers_dir))
        output: dict[str, Any] = {}
        for fn in sorted(self._handlers_dir.rglob("*.py")):
            name = fn.stem
            pascal = powertools_pascal(name)
            settings: dict[str, Any] = {
                "id": f"{name}-lambda",
                "code": source,
                "handler": f"{name}.{self.handler_name}",
                "tracing": lam.Tracing.ACTIVE,
                "runtime": runtime,
                "layers": [layer],
                "architecture": arch,
                **(function_props or {}),
            }
            function = lam.Function(self.stack, **settings)
            cdk.aws_logs.LogGroup(
                self.stack,
                id=f"{name}-lg",
                log_group_name=f"/aws/lambda/{function.function_name}",
                retention=cdk.aws_logs.RetentionDays.ONE_DAY,
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            self.add_cfn_output(
                name=pascal, value=function.function_name, arn=function.function_arn
            )
            output[pascal] = function
        return output

    def add_cfn_output(self, name: str, value: Any, arn: Any = "") -> None:
        """Outputs ``name`` and, when ``arn`` is given, ``<name>Arn``."""
        super().add_cfn_output(name, value, arn=arn or None)

    def deploy(self) -> dict[str, str]:
        """Deploy and return the outputs, also kept in ``stack_outputs``."""
        self.stack_outputs = super().deploy()
        return self.stack_outputs

    def _layer_asset(self, architecture: Any) -> str:
        if self.context.layer_zip is not None:
            return str(self.context.layer_zip)
        return LocalLambdaPowertoolsLayer(architecture=architecture_name(architecture)).build()


def _is_arm(architecture: Any) -> bool:
    if architecture is None:
        return False
    name = architecture_name(architecture)
    if name not in {"x86_64", "arm64"}:
        raise ValueError(f"unknown architecture {name}. Supported: x86_64, arm64")
    return name == "arm64"


def _runtime(lam: Any, name: str) -> Any:
    """The CDK's own constant when it has one (``Runtime.PYTHON_3_11``), else a new one."""
    constant = "PYTHON_" + name.removeprefix("python").replace(".", "_")
    found = getattr(lam.Runtime, constant, None)
    return found if found is not None else lam.Runtime(name, lam.RuntimeFamily.PYTHON)


def _python_runtimes(lam: Any, runtime: Any) -> list[Any]:
    """Python 3.8 onwards as the installed CDK knows them, and the functions' runtime."""
    known = [
        getattr(lam.Runtime, f"PYTHON_3_{minor}")
        for minor in range(8, 20)
        if hasattr(lam.Runtime, f"PYTHON_3_{minor}")
    ]
    names = {r.name for r in known}
    return known if runtime.name in names else [*known, runtime]


def call_once(
    task: Callable[[], Any],
    tmp_path_factory: pytest.TempPathFactory,
    worker_id: str,
    callback: Callable[[], Any] | None = None,
) -> Generator[object, None, None]:
    """Yield ``task()``'s result, computed once per session with or without xdist
    (`steward.e2e.once.call_once`; the result must be JSON-serialisable), then run
    ``callback`` when the fixture using it is torn down."""
    try:
        root = once.shared_root(tmp_path_factory.getbasetemp(), under_xdist=worker_id != "master")
        key = f"{PYTHON_RUNTIME_VERSION}-{getattr(task, '__qualname__', 'task')}"
        yield once.call_once(key, task, root=root)
    finally:
        if callback is not None:
            callback()
