"""Real parts for the layer and SAR stages: a dependency with a compiled and a pure wheel for
the test index, two AWS "accounts" on a moto server, and botocore Stubbers for SAR.

- `speedups_wheels` builds `sample-speedups` 1.0.0 three ways: a real CPython 3.11 extension
  compiled here with gcc (tagged cp311-cp311-manylinux2014_x86_64), an aarch64 wheel whose
  extension is an ELF header for EM_AARCH64 only (no cross compiler on this machine: it is
  checked by tag and ELF machine, never imported), and a pure py3-none-any fallback.
- `Accounts` assumes roles in moto (STS hands out keys that map to the role's account), so
  beta is 111111111111 and prod 222222222222; beta's keys reach steward through environment
  variables, prod through a named profile in a credentials file plus `role_arn`.
- `SarStubs` is a client factory: Lambda and STS go to moto, `serverlessrepo` to a real
  botocore client with a Stubber, which validates every request against botocore's own model.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from steward.cli.release_lambda import local_lambda
from steward.e2e.emulator import Emulator
from steward.pipeline.aws import AccountRef, LambdaRunner, LocalLambda, Sessions

BETA, PROD = "111111111111", "222222222222"
BETA_REGIONS = ["us-east-1", "eu-west-1"]
PROD_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
CANARY_ROLE = "steward-layer-canary"
LAYER_NAME = "sample-{pyver}-{arch}"
SPEEDUPS = "sample_speedups"

_C_SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
"""
_COMPILED_INIT = 'from ._speedups import add\n\nKIND = "compiled"\n'
_PURE_INIT = 'def add(a, b):\n    return a + b\n\n\nKIND = "pure"\n'


def _aarch64_elf_header() -> bytes:
    """A 64-byte ELF64 header of a little-endian shared object for EM_AARCH64 (183)."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    rest = (3).to_bytes(2, "little") + (183).to_bytes(2, "little") + (1).to_bytes(4, "little")
    return (ident + rest).ljust(64, b"\0")


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def write_wheel(dest: Path, name: str, version: str, tag: str, files: dict[str, bytes]) -> Path:
    """A wheel (PEP 427) with ``files``, METADATA, WHEEL (one Tag) and RECORD."""
    dist = f"{name.replace('-', '_')}-{version}"
    info = f"{dist}.dist-info"
    pure = "true" if tag.endswith("-none-any") else "false"
    content = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: steward-tests\nRoot-Is-Purelib: {pure}\nTag: {tag}\n"
        ).encode(),
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, data in content.items():
        writer.writerow([path, _record_hash(data), len(data)])
    writer.writerow([f"{info}/RECORD", "", ""])
    content[f"{info}/RECORD"] = out.getvalue().encode()
    wheel = dest / f"{dist}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in content.items():
            zf.writestr(path, data)
    return wheel


def compile_extension(workdir: Path) -> bytes:
    src = workdir / "_speedups.c"
    src.write_text(_C_SOURCE)
    out = workdir / "_speedups.so"
    include = sysconfig.get_paths()["include"]
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O1", f"-I{include}", str(src), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def speedups_wheels(dest: Path) -> list[Path]:
    """The three wheels of sample-speedups 1.0.0 (see the module docstring)."""
    dest.mkdir(parents=True, exist_ok=True)
    so = compile_extension(dest)
    ext = sysconfig.get_config_var("EXT_SUFFIX")  # .cpython-311-x86_64-linux-gnu.so
    assert ext == ".cpython-311-x86_64-linux-gnu.so", ext
    wheels = [
        write_wheel(
            dest,
            "sample-speedups",
            "1.0.0",
            "cp311-cp311-manylinux2014_x86_64",
            {f"{SPEEDUPS}/__init__.py": _COMPILED_INIT.encode(), f"{SPEEDUPS}/_speedups{ext}": so},
        ),
        write_wheel(
            dest,
            "sample-speedups",
            "1.0.0",
            "cp311-cp311-manylinux2014_aarch64",
            {
                f"{SPEEDUPS}/__init__.py": _COMPILED_INIT.encode(),
                f"{SPEEDUPS}/_speedups.cpython-311-aarch64-linux-gnu.so": _aarch64_elf_header(),
            },
        ),
        write_wheel(
            dest,
            "sample-speedups",
            "1.0.0",
            "py3-none-any",
            {f"{SPEEDUPS}/__init__.py": _PURE_INIT.encode()},
        ),
    ]
    for p in dest.glob("_speedups*"):
        p.unlink()
    return wheels


TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: sample layer {{steward.version}} in {{steward.region}}
Metadata:
  AWS::ServerlessRepo::Application:
    SemanticVersion: {{ steward.semantic_version }}
Parameters:
  Token:
    Type: String
    Default: "{{resolve:ssm:/sample/token}}"
Outputs:
  LayerX86:
    Value: {{steward.layer_arn.x86_64}}
  LayerArm:
    Value: {{steward.layer_arn.arm64}}
"""


def layer_project(root: Path) -> None:
    """Turn the copied sample into a layer project: it depends on (and imports)
    sample-speedups, and carries a SAR template and a license."""
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        text.replace('requires-python = ">=3.9"\n', 'requires-python = ">=3.9"\n'
                     'dependencies = ["sample-speedups>=1.0"]\n')
    )  # fmt: skip
    init = root / "src" / "sample" / "__init__.py"
    init.write_text(init.read_text() + "\nfrom sample_speedups import KIND, add  # noqa: E402\n")
    (root / "template.yaml").write_text(TEMPLATE)
    (root / "LICENSE").write_text("MIT No Attribution\n")


def layer_config(
    index_url: str,
    *,
    python: str = "3.11",
    public: bool = True,
    beta_account_id: str = BETA,
    sar: bool = False,
) -> str:
    text = f"""\
  layer:
    name: {LAYER_NAME}
    python: '{python}'
    index_url: {index_url}
    public: {str(public).lower()}
    license_info: MIT-0
    accounts:
      beta:
        access_key_id_env: BETA_AWS_ACCESS_KEY_ID
        secret_access_key_env: BETA_AWS_SECRET_ACCESS_KEY
        session_token_env: BETA_AWS_SESSION_TOKEN
        account_id: '{beta_account_id}'
        regions: [{", ".join(BETA_REGIONS)}]
      prod:
        profile: release-prod
        role_arn: arn:aws:iam::{PROD}:role/release
        account_id: '{PROD}'
        regions: [{", ".join(PROD_REGIONS)}]
"""
    if sar:
        text += f"""\
  sar:
    name: sample-layer
    template: template.yaml
    author: steward
    description: The sample layer
    source_code_url: https://example.com/sample
    spdx_license_id: MIT-0
    license_file: LICENSE
    readme_file: README.md
    labels: [layer]
    public: true
    accounts:
      beta:
        access_key_id_env: BETA_AWS_ACCESS_KEY_ID
        secret_access_key_env: BETA_AWS_SECRET_ACCESS_KEY
        session_token_env: BETA_AWS_SESSION_TOKEN
        regions: [us-east-1]
      prod:
        profile: release-prod
        role_arn: arn:aws:iam::{PROD}:role/release
        regions: [us-east-1, eu-west-1]
"""
    return text


def moto_call(emulator: Emulator, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        emulator.endpoint + path, data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def reset_moto(emulator: Emulator) -> None:
    moto_call(emulator, "/moto-api/reset", {})
    moto_call(emulator, "/moto-api/config", {"lambda": {"use_docker": False}})


def queue_invoke_result(emulator: Emulator, account: str, region: str, result: str) -> None:
    """The next canary invoke in that account and region answers ``result`` (moto's simple
    Lambda backend otherwise answers the event it was sent)."""
    moto_call(
        emulator,
        "/moto-api/static/lambda-simple/response",
        {"results": [result], "account_id": account, "region": region},
    )


@dataclass
class Accounts:
    """Two accounts on the moto server, with the canary role in each."""

    emulator: Emulator
    base: Path
    beta_creds: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sts = boto3.client("sts", **self._kwargs("us-east-1", "testing", "testing"))
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{BETA}:role/release", RoleSessionName="beta-ci"
        )["Credentials"]
        self.beta_creds = {
            "BETA_AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "BETA_AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "BETA_AWS_SESSION_TOKEN": creds["SessionToken"],
        }
        self.credentials_file = self.base / "aws-credentials"
        self.credentials_file.write_text(
            "[release-prod]\naws_access_key_id = prodbase\naws_secret_access_key = prodbase\n"
        )
        self.config_file = self.base / "aws-config"
        self.config_file.write_text("")
        for account in (BETA, PROD):
            iam = self.client("iam", account, "us-east-1")
            iam.create_role(
                RoleName=CANARY_ROLE,
                AssumeRolePolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                ),
            )

    def _kwargs(
        self, region: str, key: str, secret: str, token: str | None = None
    ) -> dict[str, Any]:
        return {
            "region_name": region,
            "endpoint_url": self.emulator.endpoint,
            "aws_access_key_id": key,
            "aws_secret_access_key": secret,
            "aws_session_token": token,
        }

    def client(self, service: str, account: str, region: str) -> Any:
        """A client acting in ``account`` (a role assumed there)."""
        sts = boto3.client("sts", **self._kwargs("us-east-1", "testing", "testing"))
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/inspector", RoleSessionName="inspector"
        )["Credentials"]
        return boto3.client(
            service,
            **self._kwargs(
                region, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
            ),
        )

    def env(self) -> dict[str, str]:
        """What steward's release sees: the emulator, beta's keys, prod's profile file."""
        return {
            "AWS_ENDPOINT_URL": self.emulator.endpoint,
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file),
            "AWS_CONFIG_FILE": str(self.config_file),
            "AWS_EC2_METADATA_DISABLED": "true",
            **self.beta_creds,
        }

    def layer_versions(self, account: str, region: str, name: str) -> list[dict[str, Any]]:
        """Every version of layer ``name`` in that account and region (none: [])."""
        lam = self.client("lambda", account, region)
        try:
            return list(lam.list_layer_versions(LayerName=name)["LayerVersions"])
        except lam.exceptions.ResourceNotFoundException:
            return []

    def all_versions(self, regions: dict[str, list[str]]) -> dict[tuple[str, str, str], list[str]]:
        """(account, region, layer) -> version ARNs, for ``{account: regions}``."""
        return {
            (account, region, f"sample-311-{arch}"): [
                v["LayerVersionArn"]
                for v in self.layer_versions(account, region, f"sample-311-{arch}")
            ]
            for account, names in regions.items()
            for region in names
            for arch in ("x86_64", "arm64")
        }


@dataclass
class SarStubs:
    """A client factory: `serverlessrepo` (and, without moto, `sts`) from Stubbers queued per
    (tier, region); everything else from steward's own sessions (moto)."""

    env: dict[str, str]
    with_moto: bool = True
    runner: LambdaRunner | None = None  # default: the local runtime in a temporary directory
    stubs: dict[tuple[str, str, str], Stubber] = field(default_factory=dict)
    clients: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    memory: SarMemory | None = None  # set: change sets are created on moto (SarMemory)
    hooked: set[tuple[str, str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.runner is None:
            self.runner = local_lambda(Path(tempfile.mkdtemp(prefix="steward-lambda-")))
        self.default = Sessions(self.env, "tests", lambda_runner=self.runner)

    def local_lambda(self, account: AccountRef, region: str) -> LocalLambda | None:
        return self.default.local_lambda(account, region)

    def stub(self, service: str, tier: str, region: str) -> Stubber:
        key = (service, tier, region)
        if key not in self.stubs:
            client = boto3.client(
                service,
                region_name=region,
                aws_access_key_id="stub",
                aws_secret_access_key="stub",
            )
            self.clients[key] = client
            self.stubs[key] = Stubber(client)
            self.stubs[key].activate()
        return self.stubs[key]

    def __call__(self, account: AccountRef, region: str, service: str) -> Any:
        self.calls.append((account.stage, region, service))
        if service == "serverlessrepo" or (service == "sts" and not self.with_moto):
            key = (service, account.tier, region)
            self.stub(service, account.tier, region)
            if service == "serverlessrepo" and self.memory is not None and key not in self.hooked:
                self.hooked.add(key)
                self.memory.attach(
                    self.clients[key],
                    self.stubs[key],
                    account.tier,
                    lambda: self.default(account, region, "cloudformation"),
                )
            return self.clients[key]
        return self.default(account, region, service)

    def assert_done(self) -> None:
        for stubber in self.stubs.values():
            stubber.assert_no_pending_responses()


def unpack(zip_path: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def run_canary_handler(
    source: str, layer_python: Path, event: dict[str, Any]
) -> tuple[int, str, str]:
    """Run the canary function's handler as Lambda would, in a clean interpreter whose path
    is the function's code and the unpacked layer only."""
    code_dir = layer_python.parent / "function"
    code_dir.mkdir(exist_ok=True)
    (code_dir / "steward_layer_canary.py").write_text(source)
    script = (
        "import json, sys\n"
        "sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "import steward_layer_canary as c\n"
        "print(json.dumps(c.handler(json.loads(sys.argv[3]), None)))\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            script,
            str(code_dir),
            str(layer_python),
            json.dumps(event),
        ],
        capture_output=True,
        check=False,
        env={"PATH": os.environ.get("PATH", "")},
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


# --- layers per Python version, and SAR as the playbook ships it -------------------------

MATRIX_REGIONS = ["us-east-1", "eu-west-1"]
SAR_MATRIX_NAME = "sample-layer-python{pyver}-{arch}"
SAR_BUCKET = "sar-{account}-{region}"
# The seed's layer_v3/sar/template.txt with steward's placeholders: the layer's own content
# (`sam package`'s ContentUri), runtime and architecture.
SAR_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: sample layer [{{steward.arch}}] with python {{steward.python}}
Resources:
  LambdaLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      Description: sample [{{steward.arch}}] - python {{steward.python}} - {{steward.version}}
      LayerName: {{steward.application}}
      ContentUri: {{steward.layer_content_uri}}
      CompatibleArchitectures: [{{steward.arch}}]
      CompatibleRuntimes: [{{steward.runtime}}]
      LicenseInfo: MIT-0
      RetentionPolicy: Retain
"""


def runnable_python(version: str) -> str | None:
    """A python of ``version`` that runs here (PATH, else pyenv's versions), or None."""
    candidates = [shutil.which(f"python{version}") or ""]
    candidates += sorted(
        str(p) for p in Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}")
    )
    for exe in filter(None, candidates):
        probe = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.decode().strip() == version:
            return exe
    return None


def matrix_project(root: Path) -> None:
    """The layer project with the seed-shaped SAR template."""
    layer_project(root)
    (root / "sar").mkdir()
    (root / "sar" / "template.yaml").write_text(SAR_TEMPLATE)


def matrix_config(index_url: str, pythons: list[str], interpreters: dict[str, str]) -> str:
    """Layers for ``pythons`` x both architectures in two regions of each account; SAR one
    application per layer, packaged into each account's bucket, with the beta canary."""
    interp = "".join(f"      '{v}': {p}\n" for v, p in interpreters.items())
    regions = ", ".join(MATRIX_REGIONS)
    beta = f"""\
      beta:
        access_key_id_env: BETA_AWS_ACCESS_KEY_ID
        secret_access_key_env: BETA_AWS_SECRET_ACCESS_KEY
        session_token_env: BETA_AWS_SESSION_TOKEN
        account_id: '{BETA}'
        regions: [{regions}]
      prod:
        profile: release-prod
        role_arn: arn:aws:iam::{PROD}:role/release
        account_id: '{PROD}'
        regions: [{regions}]
"""
    return (
        f"""\
  layer:
    name: {LAYER_NAME}
    pythons: [{", ".join(repr(p) for p in pythons)}]
    index_url: {index_url}
    license_info: MIT-0
"""
        + (f"    interpreters:\n{interp}" if interp else "")
        + "    accounts:\n"
        + beta
        + f"""\
  sar:
    name: {SAR_MATRIX_NAME}
    template: sar/template.yaml
    author: steward
    description: The sample layer
    bucket: {SAR_BUCKET}
    accounts:
"""
        + beta
    )


def sam_to_cloudformation(template: str) -> str:
    """What SAR's change set deploys: the SAM transform of a LayerVersion (moto has no
    transforms), ContentUri becoming Content's S3 location."""
    import yaml

    doc = yaml.safe_load(template)
    doc.pop("Transform", None)
    for res in doc.get("Resources", {}).values():
        if res.get("Type") == "AWS::Serverless::LayerVersion":
            res["Type"] = "AWS::Lambda::LayerVersion"
            props = res["Properties"]
            bucket, key = props.pop("ContentUri").removeprefix("s3://").split("/", 1)
            props["Content"] = {"S3Bucket": bucket, "S3Key": key}
            props.pop("RetentionPolicy", None)
    return json.dumps(doc)


@dataclass
class SarMemory:
    """What SAR keeps between calls, for the Stubbers: each version's template (seen in
    CreateApplication / CreateApplicationVersion), so `CreateCloudFormationChangeSet` is
    answered with a change set really created on moto from it."""

    # (tier, region, application, semantic version) -> template
    templates: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    change_sets: list[tuple[str, str, str]] = field(default_factory=list)

    def attach(self, client: Any, stubber: Stubber, account: str, cfn: Callable[[], Any]) -> None:
        """Hook ``client`` (the Stubber's, of the ``account`` tier) to remember and answer."""
        region = client.meta.region_name

        def remember(params: dict[str, Any], **_: Any) -> None:
            name = params.get("Name") or str(params["ApplicationId"]).rsplit("/", 1)[1]
            key = (account, region, name, params["SemanticVersion"])
            self.templates[key] = params["TemplateBody"]

        def change_set(params: dict[str, Any], **_: Any) -> None:
            name = str(params["ApplicationId"]).rsplit("/", 1)[1]
            body = self.templates[(account, region, name, params["SemanticVersion"])]
            made = cfn().create_change_set(
                StackName="serverlessrepo-" + params["StackName"],
                ChangeSetName=f"sar-{name}-{params['SemanticVersion'].replace('.', '-')}",
                ChangeSetType="CREATE",
                TemplateBody=sam_to_cloudformation(body),
                Capabilities=params.get("Capabilities", []),
            )
            # the queued answer (validated against the model when queued) names it
            queued = stubber._queue[0]["response"][1]
            queued.update({"ChangeSetId": made["Id"], "StackId": made["StackId"]})
            self.change_sets.append((account, region, made["Id"]))

        events = client.meta.events
        for op in ("CreateApplication", "CreateApplicationVersion"):
            events.register(f"before-parameter-build.serverlessrepo.{op}", remember)
        events.register(
            "before-parameter-build.serverlessrepo.CreateCloudFormationChangeSet", change_set
        )


def queue_sar_matrix(
    stubs: SarStubs, apps: list[str], semver: str, regions: list[str] = MATRIX_REGIONS
) -> None:
    """Every SAR region of both tiers: no application yet, CreateApplication (template
    pinned by the memory, not here: it names the uploaded content's sha256), and in beta
    the canary's change set."""
    from botocore.stub import ANY

    for tier, account in (("beta", BETA), ("prod", PROD)):
        for region in regions:
            stub = stubs.stub("serverlessrepo", tier, region)
            for app in apps:
                app_id = f"arn:aws:serverlessrepo:{region}:{account}:applications/{app}"
                stub.add_response("list_applications", {"Applications": []}, {})
                stub.add_response(
                    "create_application",
                    {"ApplicationId": app_id, "Name": app},
                    {
                        "Name": app,
                        "Author": "steward",
                        "Description": "The sample layer",
                        "SemanticVersion": semver,
                        "TemplateBody": ANY,
                    },
                )
                if tier == "beta":
                    stub.add_response(
                        "create_cloud_formation_change_set",
                        {
                            "ApplicationId": app_id,
                            "ChangeSetId": "answered-by-SarMemory",
                            "SemanticVersion": semver,
                            "StackId": "answered-by-SarMemory",
                        },
                        {
                            "ApplicationId": app_id,
                            "SemanticVersion": semver,
                            "StackName": f"{app}-canary",
                            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"],
                        },
                    )
