"""`CdkInfrastructure`: the playbook's CDK-based stacks, deployed without the CDK CLI by default.

Install the `cdk` extra (aws-cdk-lib, 400+ MB). Two deploy modes (ini `steward_e2e_deployer`):

- `direct` (default): synthesise the app in this process, upload its file assets with boto3
  and create the stack with CloudFormation. No CDK CLI, no `cdk bootstrap`: the synthesiser
  skips the bootstrap-version rule and puts assets in steward's own bucket.
- `cdk-cli`: the playbook's path: `cdk synth -o cdk.out/<feature>` on a generated
  `cdk_app_<py>.py`, then `cdk deploy --app cdk.out/<feature> -O stack_outputs.json
  --require-approval=never --method=direct` (needs the `cdk` CLI and a bootstrapped account).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from steward.e2e.deployer import CloudFormationDeployer, DeployError, StackSpec
from steward.e2e.infrastructure import (
    ARCHITECTURES,
    DEPLOYER_ENV,
    LAYER_ID,
    BaseInfrastructure,
    DeployContext,
    architecture_name,
)
from steward.e2e.naming import asset_bucket, pascal_case
from steward.e2e.plugin import CDK_SPEED_ENV
from steward.e2e.template import FileAsset, zip_dir
from steward.errors import StewardError
from steward.limits import loads_json
from steward.workspace import Limit, read_bytes

ASSET_BUCKET = asset_bucket("${AWS::AccountId}", "${AWS::Region}")
_QUIET = CDK_SPEED_ENV  # also for the cdk CLI's subprocesses


def _cdk() -> Any:
    for key, value in _QUIET.items():
        os.environ.setdefault(key, value)
    try:
        import aws_cdk
    except ImportError as exc:
        raise StewardError(
            "CdkInfrastructure needs aws-cdk-lib: pip install 'repo-steward[e2e,cdk]'"
        ) from exc
    return aws_cdk


class CdkInfrastructure(BaseInfrastructure):
    """Subclass in `<feature>/infrastructure.py`; build resources on `self.stack`."""

    def __init__(
        self,
        *,
        context: DeployContext | None = None,
        deployer: CloudFormationDeployer | None = None,
        out_dir: Path | None = None,
    ) -> None:
        super().__init__(context=context, deployer=deployer)
        cdk = _cdk()
        self.out_dir = out_dir or Path(tempfile.mkdtemp(prefix=f"cdk-{self.feature_name}-"))
        self.app = cdk.App(outdir=str(self.out_dir))
        if self.deploy_mode == "cdk-cli":  # the CLI publishes to the bootstrap bucket
            synthesizer = cdk.DefaultStackSynthesizer()
        else:
            synthesizer = cdk.DefaultStackSynthesizer(
                generate_bootstrap_version_rule=False, file_assets_bucket_name=ASSET_BUCKET
            )
        self.stack = cdk.Stack(
            self.app, self.stack_name, stack_name=self.stack_name, synthesizer=synthesizer
        )
        if self.deploy_mode == "cdk-cli":  # the CLI reads the stack's tags from the app
            for key, value in self.tags.items():
                cdk.Tags.of(self.stack).add(key, value)
        # direct: the deployer tags the stack and CloudFormation passes the tags on; a
        # `Tags.of` aspect would write them into every resource's properties, which moto
        # mis-parses for some types (an SSM parameter's map of tags: HTTP 500 on create)

    def create_lambda_functions(
        self, function_props: dict[str, Any] | None = None, architecture: Any = "x86_64"
    ) -> dict[str, Any]:
        """One `aws_lambda.Function` per `handlers/*.py`, with `<Pascal>`/`<Pascal>Arn` outputs.

        As the plain class: a log group per function kept `log_retention_days` and destroyed
        with the stack; `architecture` (`"x86_64"`, `"arm64"` or an `aws_lambda.Architecture`)
        picks the functions' architecture and the layer built for it; a second call with the
        other architecture adds `<Pascal>Arm64` (or `<Pascal>X86`) functions.
        """
        cdk = _cdk()
        lam = cdk.aws_lambda
        arch = architecture_name(architecture)
        files = self._handler_files()
        handlers = self.feature_path / "handlers"
        runtime = self.runtime or "python{}.{}".format(*sys.version_info[:2])
        layers = self._cdk_layers(arch)
        suffix = self._function_suffix(arch)
        functions: dict[str, Any] = {}
        for path in files:
            name = pascal_case(path.stem) + suffix
            props: dict[str, Any] = {
                "runtime": lam.Runtime(runtime, lam.RuntimeFamily.PYTHON),
                "code": lam.Code.from_asset(str(handlers)),
                "handler": f"{path.stem}.{self.handler_name}",
                "tracing": lam.Tracing.ACTIVE,
                "memory_size": 512,
                "timeout": cdk.Duration.seconds(10),
                "architecture": _cdk_architecture(lam, arch),
                **({"layers": layers} if layers else {}),
                **(function_props or {}),
            }
            fn = lam.Function(self.stack, name, **props)
            group = cdk.aws_logs.LogGroup(
                self.stack,
                f"{name}LogGroup",
                log_group_name=f"/aws/lambda/{fn.function_name}",
                retention=cdk.aws_logs.RetentionDays.ONE_DAY,  # replaced just below
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            # any number of days CloudWatch accepts, not only RetentionDays' members
            group.node.default_child.retention_in_days = type(self).log_retention_days
            self.add_cfn_output(name, fn.function_name, arn=fn.function_arn)
            functions[name] = fn
        return functions

    def _cdk_layers(self, arch: str) -> list[Any]:
        """The context's layer for `arch`: one `LayerVersion` per architecture used."""
        zip_path = self.context.layer_for(arch)
        if zip_path is None:
            return []
        lam = _cdk().aws_lambda
        layer_id = LAYER_ID + ARCHITECTURES[arch]
        layer = self.stack.node.try_find_child(layer_id)
        if layer is None:
            layer = lam.LayerVersion(
                self.stack,
                layer_id,
                code=lam.Code.from_asset(str(zip_path)),
                compatible_architectures=[_cdk_architecture(lam, arch)],
            )
        return [layer]

    def add_cfn_output(self, name: str, value: Any, arn: Any = None) -> None:
        cdk = _cdk()
        # construct ids may clash with a function's; the CloudFormation output key must not
        out = cdk.CfnOutput(self.stack, f"Output{name}", value=value)
        out.override_logical_id(name)
        if arn:
            out_arn = cdk.CfnOutput(self.stack, f"Output{name}Arn", value=arn)
            out_arn.override_logical_id(f"{name}Arn")

    # -- direct: synthesise here, deploy with boto3 ---------------------------------------
    def synthesize(self) -> StackSpec:
        if not self._synthesized:
            self.create_resources()
            self._synthesized = True
        assembly = self.app.synth()
        artifact = assembly.get_stack_artifact(self.stack.artifact_id)
        template = _read_json(Path(artifact.template_full_path), "a synthesised template")
        return StackSpec(
            name=self.stack_name,
            template=template,
            tags=self.tags,
            assets=tuple(file_assets(Path(assembly.directory), self.stack.artifact_id)),
            allow_skipped=self.skippable,
        )

    def deploy(self) -> dict[str, str]:
        if self.deploy_mode == "cdk-cli":
            return self._deploy_with_cli()
        return super().deploy()

    # -- cdk-cli: the playbook's path ---------------------------------------------------
    def _deploy_with_cli(self) -> dict[str, str]:
        cli = shutil.which("cdk")
        if cli is None:
            raise StewardError(
                "the cdk-cli deployer needs the `cdk` CLI on PATH (npm i -g aws-cdk)"
            )
        build = self.out_dir / "cli"
        build.mkdir(parents=True, exist_ok=True)
        app = build / f"cdk_app_{self.context.python}.py"
        app.write_text(cli_app_source(type(self), self.context))
        out = build / "cdk.out"
        outputs_file = build / "stack_outputs.json"
        env = {**os.environ, **_QUIET, DEPLOYER_ENV: "cdk-cli"}
        _run([cli, "synth", "--app", f"{sys.executable} {app}", "-o", str(out), "-q"], env)
        _run(
            [
                cli,
                "deploy",
                "--app",
                str(out),
                "-O",
                str(outputs_file),
                "--require-approval=never",
                "--method=direct",
                self.stack_name,
            ],
            env,
        )
        data = _read_json(outputs_file, "the cdk CLI's stack outputs")
        return {k: str(v) for k, v in data.get(self.stack_name, {}).items()}


def _cdk_architecture(lam: Any, arch: str) -> Any:
    return lam.Architecture.ARM_64 if arch == "arm64" else lam.Architecture.X86_64


def cli_app_source(cls: type[CdkInfrastructure], context: DeployContext) -> str:
    """The `cdk_app_<py>.py` the playbook generates: import the stack, build it, synth."""
    module_file = Path(sys.modules[cls.__module__].__file__ or "")
    return textwrap.dedent(
        f"""
        import importlib.util, os, sys
        from pathlib import Path
        from steward.e2e.infrastructure import DeployContext
        spec = importlib.util.spec_from_file_location({cls.__module__!r}, {str(module_file)!r})
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        context = DeployContext(run_id={context.run_id!r}, prefix={context.prefix!r})
        out_dir = Path(os.environ["CDK_OUTDIR"])  # set by `cdk synth -o`
        stack = getattr(module, {cls.__name__!r})(context=context, out_dir=out_dir)
        stack.create_resources()
        stack.app.synth()
        """
    )


def _read_json(path: Path, what: str) -> Any:
    """A JSON file the CDK wrote, read bounded (`Limit.MANIFEST`, `steward.limits`)."""
    return loads_json(read_bytes(path, Limit.MANIFEST, what), what, DeployError)


def file_assets(assembly_dir: Path, artifact_id: str) -> list[FileAsset]:
    """File assets from `<artifact>.assets.json`, zipped or read as the manifest says."""
    manifest_path = assembly_dir / f"{artifact_id}.assets.json"
    if not manifest_path.is_file():
        return []
    manifest = _read_json(manifest_path, "a CDK assets manifest")
    assets: list[FileAsset] = []
    for entry in manifest.get("files", {}).values():
        source = entry["source"]
        if "path" not in source:
            raise DeployError(
                f"asset without a path (executable assets need the CDK CLI): {source}"
            )
        path = assembly_dir / source["path"]
        if source.get("packaging") == "zip":
            data = zip_dir(path)
        else:
            data = read_bytes(path, Limit.ASSET, "a CDK file asset")
        for dest in entry["destinations"].values():
            assets.append(FileAsset(dest["objectKey"], data))
    return assets


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise DeployError(f"{' '.join(cmd[:2])} failed: " + " | ".join(tail))
