"""`BaseInfrastructure`: the playbook's per-feature stack, as a plain CloudFormation template.

Subclass it in `<feature>/infrastructure.py` and override `create_resources()`:

    class LoggerStack(BaseInfrastructure):
        def create_resources(self) -> None:
            functions = self.create_lambda_functions()   # one per file in handlers/
            self.add_cfn_output("LogGroup", {"Fn::Sub": "/aws/lambda/${BasicHandler}"})

`deploy()` returns the stack outputs (`BasicHandler`, `BasicHandlerArn`, ...); `delete()`
removes the stack. Projects on CDK subclass `steward.e2e.cdk.CdkInfrastructure` instead.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from steward.e2e import aws
from steward.e2e.deployer import CloudFormationDeployer, StackSpec
from steward.e2e.naming import (
    DEFAULT_PREFIX,
    FEATURE_TAG,
    RUN_TAG,
    new_run_id,
    pascal_case,
    python_tag,
    stack_name,
)
from steward.e2e.template import Template, zip_dir
from steward.errors import UsageError
from steward.workspace import Limit, read_bytes

RUN_ENV = "STEWARD_E2E_RUN_ID"
PREFIX_ENV = "STEWARD_E2E_PREFIX"
DEPLOYER_ENV = "STEWARD_E2E_DEPLOYER"
LAYER_ENV = "STEWARD_E2E_LAYER_ZIP"
ALLOW_SKIPPED_ENV = "STEWARD_E2E_ALLOW_SKIPPED"  # comma-separated resource type patterns
PYTHON_TAG = "steward:e2e:python"
ROLE_ID = "E2ELambdaRole"
LAYER_ID = "E2ELayer"
# architecture -> what its layer's logical id and (after the stack's first architecture) its
# functions' names end with: one stack can hold x86_64 and arm64 functions side by side
ARCHITECTURES = {"x86_64": "", "arm64": "Arm64"}
SECOND_ARCH_SUFFIX = {"x86_64": "X86", "arm64": "Arm64"}


def architecture_name(architecture: Any) -> str:
    """`"x86_64"`/`"arm64"`, or anything with such a `.name` (a CDK `Architecture`)."""
    name = architecture if isinstance(architecture, str) else getattr(architecture, "name", None)
    if name not in ARCHITECTURES:
        raise UsageError(
            f"unknown Lambda architecture {architecture!r}: use one of {', '.join(ARCHITECTURES)}"
        )
    return str(name)


@dataclass(frozen=True)
class DeployContext:
    """What a stack needs to know about the test run; the plugin fills it, or the environment."""

    run_id: str
    prefix: str = DEFAULT_PREFIX
    python: str = field(default_factory=python_tag)
    layer_zip: Path | None = None  # every architecture's, unless `layer_zips` names one
    allow_skipped: tuple[str, ...] = ()
    # architecture -> its own layer zip (native wheels differ); consulted before `layer_zip`
    layer_zips: Mapping[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for arch in self.layer_zips:
            architecture_name(arch)

    def layer_for(self, architecture: str) -> Path | None:
        """The zip for functions of `architecture`: its own, else the shared one, else none."""
        return self.layer_zips.get(architecture, self.layer_zip)

    @classmethod
    def from_env(cls) -> DeployContext:
        """The run id the plugin exported (so a hand-written conftest shares it), else a new one."""
        layer = os.environ.get(LAYER_ENV)
        return cls(
            run_id=os.environ.get(RUN_ENV) or new_run_id(),
            prefix=os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX,
            layer_zip=Path(layer) if layer else None,
            allow_skipped=split_patterns(os.environ.get(ALLOW_SKIPPED_ENV, "")),
        )


def split_patterns(text: str) -> tuple[str, ...]:
    """`AWS::AppConfig::*, AWS::X::Y` (commas or newlines) -> the patterns."""
    return tuple(p.strip() for p in text.replace("\n", ",").split(",") if p.strip())


class BaseInfrastructure:
    """One feature's stack. Class attributes tune it; `create_resources()` defines it."""

    feature: ClassVar[str | None] = None  # default: the folder holding the subclass's module
    runtime: ClassVar[str | None] = None  # default: the Python running the tests
    handler_name: ClassVar[str] = "lambda_handler"
    # resource types this feature's tests can do without, when the target (moto) skips them
    allow_skipped: ClassVar[tuple[str, ...]] = ()
    # days each function's `/aws/lambda/<name>` log group keeps its events
    log_retention_days: ClassVar[int] = 1

    def __init__(
        self,
        *,
        context: DeployContext | None = None,
        deployer: CloudFormationDeployer | None = None,
    ) -> None:
        self.context = context or DeployContext.from_env()
        self.feature_path = Path(inspect.getfile(type(self))).resolve().parent
        self.feature_name = type(self).feature or self.feature_path.name
        self.stack_name = stack_name(
            self.context.prefix, self.feature_name, self.context.run_id, self.context.python
        )
        self.template = Template(description=f"steward e2e: {self.feature_name}")
        self._deployer = deployer
        self._account_id: str | None = None
        self._synthesized = False
        self._architectures: list[str] = []  # in the order create_lambda_functions used them
        # CDK stacks: "direct" (boto3) or "cdk-cli"; the plugin exports its option here
        self.deploy_mode = os.environ.get(DEPLOYER_ENV) or "direct"

    @property
    def deployer(self) -> CloudFormationDeployer:
        if self._deployer is None:
            self._deployer = CloudFormationDeployer()
        return self._deployer

    # -- the names a Powertools-style infrastructure module uses (read lazily: no call to
    # AWS until one is asked for) ----------------------------------------------------------
    @property
    def region(self) -> str:
        """The region stacks deploy to (``AWS_REGION``, else ``AWS_DEFAULT_REGION``)."""
        return str(self.deployer.cfn.meta.region_name)

    @property
    def account_id(self) -> str:
        """The account the credentials belong to (one STS call, then remembered)."""
        if self._account_id is None:
            self._account_id = aws.account_id()
        return self._account_id

    @property
    def session(self) -> Any:
        """A boto3 session in `region`, for a module that makes its own clients."""
        import boto3

        return boto3.Session(region_name=self.region)

    @property
    def cfn(self) -> Any:
        """The CloudFormation client the stack is deployed with."""
        return self.deployer.cfn

    @property
    def tags(self) -> dict[str, str]:
        """Every stack carries its run id: the sweep and the janitor find leaks by it."""
        return {
            RUN_TAG: self.context.run_id,
            FEATURE_TAG: self.feature_name,
            PYTHON_TAG: self.context.python,
        }

    @property
    def skippable(self) -> tuple[str, ...]:
        """Resource types the target may leave out: the class's and the run's (ini)."""
        return (*type(self).allow_skipped, *self.context.allow_skipped)

    # -- what subclasses use -------------------------------------------------------------
    def create_resources(self) -> None:
        """Define the feature's resources. Override it."""
        raise NotImplementedError(f"{type(self).__name__} must override create_resources()")

    def create_lambda_functions(
        self, function_props: dict[str, Any] | None = None, architecture: Any = "x86_64"
    ) -> dict[str, str]:
        """One Lambda function per `handlers/*.py`; outputs `<Pascal>` (name), `<Pascal>Arn`.

        Each function gets a log group `/aws/lambda/<name>` kept `log_retention_days` and
        deleted with the stack, so no run leaves `/aws/lambda/*` groups on an account (Lambda
        would otherwise create them on first invoke, kept forever). `architecture` is
        `x86_64` or `arm64`; call again with the other one for both in one stack: that
        call's functions are named `<Pascal>Arm64` (or `<Pascal>X86`).

        Returns PascalCase name -> logical id, usable in `{"Ref": ...}` / `Fn::GetAtt`.
        """
        arch = architecture_name(architecture)
        files = self._handler_files()
        handlers = self.feature_path / "handlers"
        code = self.template.add_asset(zip_dir(handlers))
        role = self._ensure_role()
        layers = self._layers(arch)
        suffix = self._function_suffix(arch)
        functions: dict[str, str] = {}
        for path in files:
            name = pascal_case(path.stem) + suffix
            props: dict[str, Any] = {
                "Runtime": self.runtime or "python{}.{}".format(*sys.version_info[:2]),
                "Handler": f"{path.stem}.{self.handler_name}",
                "Role": {"Fn::GetAtt": [role, "Arn"]},
                "Code": code,
                "Timeout": 10,
                "MemorySize": 512,
                "TracingConfig": {"Mode": "Active"},
                "Architectures": [arch],
                **({"Layers": layers} if layers else {}),
                **(function_props or {}),
            }
            self.template.add_resource(name, "AWS::Lambda::Function", props)
            self._add_log_group(name)
            self.add_cfn_output(name, {"Ref": name}, arn={"Fn::GetAtt": [name, "Arn"]})
            functions[name] = name
        return functions

    def add_cfn_output(self, name: str, value: Any, arn: Any = None) -> None:
        """Output `name`, and `<name>Arn` when an ARN is given (the playbook's helper)."""
        self.template.add_output(name, value)
        if arn:
            self.template.add_output(f"{name}Arn", arn)

    # -- lifecycle ----------------------------------------------------------------------
    def synthesize(self) -> StackSpec:
        if not self._synthesized:
            self.create_resources()
            self._synthesized = True
        return StackSpec(
            name=self.stack_name,
            template=self.template.to_dict(),
            tags=self.tags,
            assets=tuple(self.template.assets.values()),
            allow_skipped=self.skippable,
        )

    def deploy(self) -> dict[str, str]:
        """Create (or adopt) the stack and return its outputs."""
        return self.deployer.deploy(self.synthesize())

    def delete(self, *, wait: bool = True) -> None:
        """Delete the stack; absent is fine, so calling it twice is harmless."""
        self.deployer.delete(self.stack_name, wait=wait)

    # -- internals ----------------------------------------------------------------------
    def _ensure_role(self) -> str:
        if ROLE_ID not in self.template.resources:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            self.template.add_resource(
                ROLE_ID,
                "AWS::IAM::Role",
                {
                    "AssumeRolePolicyDocument": trust,
                    "ManagedPolicyArns": [
                        {
                            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/"
                            "service-role/AWSLambdaBasicExecutionRole"
                        },
                        {
                            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/"
                            "AWSXRayDaemonWriteAccess"
                        },
                    ],
                },
            )
        return ROLE_ID

    def _handler_files(self) -> list[Path]:
        handlers = self.feature_path / "handlers"
        files = sorted(p for p in handlers.glob("*.py") if not p.name.startswith("_"))
        if not files:
            raise FileNotFoundError(f"no handlers in {handlers}")
        return files

    def _function_suffix(self, arch: str) -> str:
        """No suffix for the stack's first architecture; the others' functions get one, so the
        same handlers can run on both without clashing names."""
        if arch not in self._architectures:
            self._architectures.append(arch)
        return "" if arch == self._architectures[0] else SECOND_ARCH_SUFFIX[arch]

    def _add_log_group(self, function: str) -> None:
        """The function's own log group. Its name refers to the function, so CloudFormation
        creates it right after the function, before the stack (and any test) can invoke it:
        a `DependsOn` from the function on it would be a cycle. Deleted with the stack."""
        self.template.add_resource(
            f"{function}LogGroup",
            "AWS::Logs::LogGroup",
            {
                "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{function}}}"},
                "RetentionInDays": type(self).log_retention_days,
            },
        )
        self.template.resources[f"{function}LogGroup"].update(
            {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
        )

    def _layers(self, arch: str) -> list[Any]:
        """The context's layer for `arch`, one `LayerVersion` per architecture used."""
        layer = self.context.layer_for(arch)
        if layer is None:
            return []
        layer_id = LAYER_ID + ARCHITECTURES[arch]
        if layer_id not in self.template.resources:
            content = self.template.add_asset(read_bytes(layer, Limit.ASSET, "a layer zip"))
            self.template.add_resource(
                layer_id,
                "AWS::Lambda::LayerVersion",
                {
                    "Content": content,
                    "CompatibleRuntimes": [self.runtime or "python3.11"],
                    "CompatibleArchitectures": [arch],
                },
            )
        return [{"Ref": layer_id}]
