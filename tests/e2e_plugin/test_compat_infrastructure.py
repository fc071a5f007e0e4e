"""steward.e2e.compat.BaseInfrastructure with Powertools' own idempotency feature.

The feature's real ``infrastructure.py`` and handlers (tests/fixtures/powertools_e2e) are
copied to a tmp folder and their imports rewritten by `steward.e2e.migrate`; nothing else
is changed. The synthesised template is checked against what Powertools' class builds, and
the stack is deployed and deleted once on moto. A layer zip in the context stands in for
the pip-built layer (tested on its own in test_compat_layer.py).
"""

from __future__ import annotations

import json
import secrets
import shutil
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aws_cdk", reason="the cdk extra is not installed (uv sync --extra cdk)")

from steward.e2e.compat import data_fetcher
from steward.e2e.compat.base import InfrastructureProvider
from steward.e2e.compat.infrastructure import BaseInfrastructure, call_once, powertools_pascal
from steward.e2e.features import stack_class
from steward.e2e.infrastructure import DeployContext
from steward.e2e.migrate import rewrite_bytes

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "powertools_e2e" / "tests" / "e2e"
HANDLERS = sorted(p.stem for p in (FIXTURE / "idempotency" / "handlers").glob("*.py"))


def _migrated_feature(dest: Path, name: str = "idempotency") -> Path:
    """A copy of Powertools' feature with its imports rewritten (the only change)."""
    folder = dest / name
    shutil.copytree(FIXTURE / "idempotency", folder)
    for path in folder.rglob("*.py"):
        result = rewrite_bytes(path.read_bytes())
        path.write_bytes(result.data)
    return folder


def _layer_zip(dest: Path) -> Path:
    path = dest / "layer.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("python/aws_lambda_powertools/__init__.py", "")
    return path


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def idempotency(tmp_path_factory: pytest.TempPathFactory) -> tuple[type[BaseInfrastructure], Path]:
    root = tmp_path_factory.mktemp("powertools")
    folder = _migrated_feature(root)
    assert "steward.e2e.compat.infrastructure" in (folder / "infrastructure.py").read_text()
    cls = stack_class(folder)  # what the plugin does
    assert cls.__name__ == "IdempotencyDynamoDBStack"
    assert issubclass(cls, BaseInfrastructure)
    return cls, _layer_zip(root)


def _stack(cls: type[BaseInfrastructure], layer: Path, tmp_path: Path) -> BaseInfrastructure:
    context = DeployContext(run_id=secrets.token_hex(4), layer_zip=layer)
    return cls(context=context, out_dir=tmp_path / "cdk.out")


def test_the_template_is_what_powertools_builds(
    idempotency: tuple[type[BaseInfrastructure], Path], tmp_path: Path
) -> None:
    cls, layer = idempotency
    stack = _stack(cls, layer, tmp_path)
    assert isinstance(stack, InfrastructureProvider)
    template = stack.synthesize().template

    functions = _of_type(template, "AWS::Lambda::Function")
    assert sorted(f["Properties"]["Handler"] for f in functions) == [
        f"{h}.lambda_handler" for h in HANDLERS
    ]
    for fn in functions:
        props = fn["Properties"]
        assert props["Architectures"] == ["x86_64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Runtime"].startswith("python3.")
        assert props["Timeout"] == 10  # function_props win
        assert "IdempotencyTable" in props["Environment"]["Variables"]
        assert len(props["Layers"]) == 1

    groups = _of_type(template, "AWS::Logs::LogGroup")
    assert len(groups) == len(HANDLERS)
    for group in groups:
        assert group["Properties"]["RetentionInDays"] == 1
        assert group["DeletionPolicy"] == "Delete"
        assert group["UpdateReplacePolicy"] == "Delete"
        name = json.dumps(group["Properties"]["LogGroupName"])
        assert "/aws/lambda/" in name

    (layer_version,) = _of_type(template, "AWS::Lambda::LayerVersion")
    assert layer_version["Properties"]["LayerName"] == "aws-lambda-powertools-e2e-test"
    assert layer_version["Properties"]["CompatibleArchitectures"] == ["x86_64"]

    pascal = [powertools_pascal(h) for h in HANDLERS]
    assert "ResponseHook" in pascal
    expected = {*pascal, *(f"{p}Arn" for p in pascal), "DynamoDBTable"}
    assert set(template["Outputs"]) == expected
    assert stack.stack_name.startswith("steward-e2e-idempotency-py")


def test_arm64_functions_and_layer(tmp_path: Path) -> None:
    folder = _migrated_feature(tmp_path, name="arm_feature")
    (folder / "infrastructure.py").write_text(
        textwrap.dedent(
            """
            from aws_cdk.aws_lambda import Architecture

            from steward.e2e.compat.infrastructure import BaseInfrastructure


            class ArmStack(BaseInfrastructure):
                def create_resources(self):
                    self.create_lambda_functions(architecture=Architecture.ARM_64)
            """
        )
    )
    stack = _stack(stack_class(folder), _layer_zip(tmp_path), tmp_path)
    template = stack.synthesize().template
    assert {
        tuple(f["Properties"]["Architectures"]) for f in _of_type(template, "AWS::Lambda::Function")
    } == {("arm64",)}
    (layer_version,) = _of_type(template, "AWS::Lambda::LayerVersion")
    assert layer_version["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_no_argument_constructor_takes_the_run_from_the_environment(
    idempotency: tuple[type[BaseInfrastructure], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cls, layer = idempotency
    monkeypatch.setenv("STEWARD_E2E_RUN_ID", "abc123")
    monkeypatch.setenv("STEWARD_E2E_LAYER_ZIP", str(layer))
    stack = cls()  # as Powertools' per-feature conftest does
    assert stack.stack_name.endswith("-abc123")
    assert stack.context.layer_zip == layer
    assert stack.stack_outputs == {}
    assert stack.feature_path.name == "idempotency"
    assert stack.app is not None
    assert stack.stack.stack_name == stack.stack_name


def test_a_feature_without_handlers_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "infrastructure.py").write_text(
        "from steward.e2e.compat.infrastructure import BaseInfrastructure\n\n"
        "class EmptyStack(BaseInfrastructure):\n"
        "    def create_resources(self):\n"
        "        self.create_lambda_functions()\n"
    )
    stack = _stack(stack_class(folder), _layer_zip(tmp_path), tmp_path)
    with pytest.raises(RuntimeError, match="must exist for functions to be created"):
        stack.synthesize()


def test_deploy_on_moto_then_delete(
    idempotency: tuple[type[BaseInfrastructure], Path], aws_env: Any, tmp_path: Path
) -> None:
    cls, layer = idempotency
    stack = _stack(cls, layer, tmp_path)
    outputs = stack.deploy()
    try:
        assert stack.stack_outputs == outputs
        assert {"ResponseHook", "ResponseHookArn", "DynamoDBTable"} <= set(outputs)
        assert stack.account_id == "123456789012"
        assert stack.region == "us-east-1"
        described = stack.cfn.describe_stacks(StackName=stack.stack_name)["Stacks"][0]
        assert described["StackStatus"] == "CREATE_COMPLETE"
        response, _ = data_fetcher.get_lambda_response(
            lambda_arn=outputs["ResponseHookArn"], payload=json.dumps({"id": 1})
        )
        assert json.loads(response["Payload"].read()) == {"id": 1}
    finally:
        stack.delete()
    stack.delete()  # idempotent
    assert stack.deployer.describe(stack.stack_name) is None


class _Factory:
    def __init__(self, base: Path) -> None:
        self.base = base

    def getbasetemp(self) -> Path:
        return self.base


def test_call_once_runs_the_task_once_per_session(tmp_path: Path) -> None:
    calls: list[int] = []
    finished: list[int] = []

    def task() -> str:
        calls.append(1)
        return "built"

    for worker in ("gw0", "gw1"):  # two workers share the basetemp's parent
        factory: Any = _Factory(tmp_path / f"popen-{worker}")
        gen = call_once(task, factory, worker, callback=lambda: finished.append(1))
        assert next(gen) == "built"
        gen.close()
    assert calls == [1]
    assert finished == [1, 1]

    master: Any = _Factory(tmp_path / "serial")
    assert list(call_once(task, master, "master")) == ["built"]
    assert calls == [1, 1]  # another root: runs again
