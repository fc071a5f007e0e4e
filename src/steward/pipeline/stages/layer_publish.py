"""Layer beta and prod: publish the sealed layer zips in every region of an account.

Per region and layer (one per Python version and architecture): PublishLayerVersion with
that Python's runtime and the architecture, unless the layer already has a version whose
CodeSha256 is the sealed zip's
(a retry, or a run that stopped after publishing): that version is reused, so no duplicate is
ever published. Then, when configured, a public AddLayerVersionPermission (skipped when the
policy already has it), and a canary function created with the new version and invoked once:
it imports the layer's modules and answers the version and path of the package it
imported, which must be the release's and under the layer root. On an emulator whose
Invoke only echoes, an injected runner (`aws.LocalLambda`) runs the handler here.

The zips are read once, after their sha256 is checked against the one layer-build sealed;
the bytes checked are the bytes uploaded, and AWS's CodeSha256 of the upload must match.
Regions run concurrently; one region's failure does not stop the others, whose versions are
recorded (and reused by `--resume`).

layer-prod ends with the parity check (the playbook's `layer_govcloud_verify`): every layer
must have the same version number and CodeSha256 in every region of each account this
release published to (read back from AWS, not from the record), so one ARN pattern and one
version number describe the release everywhere. A region out of step fails the stage with
the table of which region has which version and hash. It is a step of layer-prod rather than
a stage of its own so that every resume of layer-prod checks it again and existing stage
lists get it without a change.
"""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from steward.config.pipeline import AwsAccount, LayerConfig
from steward.errors import ReleaseError
from steward.pipeline import aws, layer_zip
from steward.pipeline.aws import AccountRef, Identity, LocalLambda
from steward.pipeline.context import Context
from steward.pipeline.stages.layer_build import zip_name
from steward.pipeline.state import StageRecord

Tier = Literal["beta", "prod"]
CANARY_MODULE = "steward_layer_canary"
PUBLIC_SID = "steward-public"
# The canary's handler: imports the layer's modules (each must come from under the layer
# root), then reports what only a run can know, under a key the event does not carry:
# `imported` = the package module's version (`__version__`, else the distribution's
# metadata), the file it was imported from and the function's own code root. The stage
# compares that with the release, so an emulator that echoes the event cannot pass it.
CANARY_SOURCE = '''\
"""steward's layer canary: the layer's modules import from the layer at the released version."""

import importlib
import importlib.metadata
import os
import sys


def handler(event, context):
    root = os.path.realpath(event.get("layer_root", "/opt")) + os.sep
    modules = {}
    for name in event["imports"]:
        module = importlib.import_module(name)
        where = os.path.realpath(getattr(module, "__file__", None) or "")
        if not where.startswith(root):
            raise ImportError(f"{name} was imported from {where}, not from the layer")
        modules[name] = where
    package = importlib.import_module(event["imports"][0])
    found, via = getattr(package, "__version__", None), "__version__"
    if not isinstance(found, str):
        found, via = importlib.metadata.version(event["package"]), "metadata"
    return {
        "imported": {
            "module": package.__name__,
            "version": found,
            "via": via,
            "from": os.path.realpath(getattr(package, "__file__", None) or ""),
            "task_root": os.path.realpath(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()),
            "python": "%d.%d" % sys.version_info[:2],
        },
        "modules": modules,
    }
'''
LAMBDA_LAYER_ROOT = "/opt"


def code_sha256(hex_sha: str) -> str:
    """Lambda's CodeSha256 (base64 of the digest) for a hex sha256."""
    return base64.b64encode(bytes.fromhex(hex_sha)).decode()


def canary_zip(epoch: int) -> bytes:
    """The canary function's deployment package (deterministic)."""
    return layer_zip.to_bytes([(f"{CANARY_MODULE}.py", CANARY_SOURCE.encode(), False)], epoch)


@dataclass
class _Region:
    region: str
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0


@dataclass
class _Job:
    """What every region publishes: the same zips, names, runtimes and canary."""

    stage: str
    layer: LayerConfig
    identity: Identity
    package: str
    version: str
    imports: list[str]
    zips: dict[str, tuple[bytes, str]]  # layer key -> (bytes, hex sha256)
    canary: bytes

    def description(self, arch: str) -> str:
        return self.layer.description.format(package=self.package, version=self.version, arch=arch)


class LayerPublishStage:
    def __init__(self, tier: Tier) -> None:
        self.tier: Tier = tier
        self.name = f"layer-{tier}"
        self.title = f"Deploy layer to {tier}"

    def _account(self, ctx: Context) -> AwsAccount | None:
        layer = ctx.cfg.layer
        return None if layer is None else getattr(layer.accounts, self.tier)

    def unconfigured(self, ctx: Context) -> str | None:
        if ctx.cfg.layer is None:
            return "release.layer is not configured"
        if self._account(ctx) is None:
            return f"release.layer.accounts.{self.tier} is not configured"
        return None

    def preflight(self, ctx: Context) -> list[str]:
        account = self._account(ctx)
        if account is None:
            return []
        return [f"{self.name}: {p}" for p in aws.missing(account, ctx.env)]

    def plan(self, ctx: Context) -> list[str]:
        layer, account = ctx.cfg.layer, self._account(ctx)
        if layer is None or account is None:
            return []
        variants = layer.variants()
        names = ", ".join(layer.layer_name(a, p) for p, a in variants)
        runtimes = sorted({r for p in layer.versions for r in layer.runtimes_of(p)})
        lines = [
            f"{self.tier} account: {account.describe()}",
            f"check {', '.join(zip_name(layer.key(p, a)) for p, a in variants)} against their "
            "sha256",
            f"regions {', '.join(account.regions)}: PublishLayerVersion {names} "
            f"(runtimes {', '.join(runtimes)}), unless a version has the same CodeSha256",
        ]
        if layer.public:
            lines.append("AddLayerVersionPermission lambda:GetLayerVersion for every account")
        if layer.canary.enabled:
            fn = layer.canary.function_name.format(layer=layer.layer_name(layer.architectures[0]))
            lines.append(
                f"canary function per region and architecture (e.g. {fn}, role "
                f"{layer.canary.role_name}) with the new version, invoked once"
            )
        if self.tier == "prod" and layer.parity:
            lines.append(
                "parity: every layer has the same version and CodeSha256 in every region of "
                "each account published to"
            )
        return lines

    def run(self, ctx: Context, rec: StageRecord) -> None:
        layer, account = ctx.cfg.layer, self._account(ctx)
        if layer is None or account is None:
            raise ReleaseError(f"stage {self.name}: {self.unconfigured(ctx)}")
        zips: dict[str, tuple[bytes, str]] = {}
        for python, arch in layer.variants():
            key = layer.key(python, arch)
            path, sha = ctx.sealed("layer-build", zip_name(key), self.name)
            zips[key] = (layer_zip.read_sealed(path, sha, self.name), sha)
        built = ctx.state.stage("layer-build").details
        ref = AccountRef(self.name, self.tier, account)
        factory = ctx.aws_clients()
        ident = aws.identity(factory, ref)
        job = _Job(
            self.name,
            layer,
            ident,
            str(built["package"]),
            ctx.version,
            list(built["imports"]),
            zips,
            canary_zip(ctx.epoch),
        )
        clients = {region: factory(ref, region, "lambda") for region in account.regions}
        rec.details.update({"account": ident.account_id, "layers": {}})
        with ThreadPoolExecutor(max_workers=min(8, len(clients))) as pool:
            done = list(
                pool.map(
                    lambda r: _publish_region(
                        job, r, clients[r], aws.local_lambda(factory, ref, r)
                    ),
                    account.regions,
                )
            )
        failed = {r.region: r.error for r in done if r.error}
        for result in done:
            if result.layers:
                rec.details["layers"][result.region] = result.layers
            for machine, info in result.layers.items():
                how = "reused" if info["reused"] else "published"
                ctx.echo(f"  {result.region} {machine}: {how} {info['arn']}")
        rec.details["tasks"] = [
            {"title": r.region, "started": r.started, "finished": r.finished} for r in done
        ]
        if failed:
            rec.details["failed"] = failed
            listed = "; ".join(f"{region}: {err}" for region, err in failed.items())
            raise ReleaseError(
                f"stage {self.name}: failed in {len(failed)} of {len(done)} regions: {listed} "
                "(the versions published elsewhere are recorded; a resume reuses them)"
            )
        if self.tier == "prod" and layer.parity:
            started = time.time()
            accounts = [(ref, rec.details)]
            beta = ctx.state.stages.get("layer-beta")
            if layer.accounts.beta is not None and beta is not None and beta.status == "completed":
                accounts.insert(
                    0, (AccountRef("layer-beta", "beta", layer.accounts.beta), beta.details)
                )
            try:
                parity = check_parity(self.name, factory, layer, accounts)
            finally:
                rec.details["tasks"].append(
                    {"title": "parity", "started": started, "finished": time.time()}
                )
            rec.details["parity"] = parity
            if parity.get("skewed"):
                raise ReleaseError(
                    f"stage {self.name}: layer versions out of step across regions (each layer "
                    "must have the same version and CodeSha256 everywhere): "
                    + "; ".join(parity["skewed"])
                )
            ctx.echo(f"  parity: {parity['summary']}")

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        layer, account = ctx.cfg.layer, self._account(ctx)
        if layer is None or account is None:
            raise ReleaseError(f"stage {self.name}: {self.unconfigured(ctx)}")
        expected = {}
        for python, arch in layer.variants():
            key = layer.key(python, arch)
            path, sha = ctx.sealed("layer-build", zip_name(key), self.name)
            layer_zip.read_sealed(path, sha, self.name)
            expected[key] = code_sha256(sha)
        ref = AccountRef(self.name, self.tier, account)
        factory = ctx.aws_clients()
        for region, layers in sorted(rec.details.get("layers", {}).items()):
            client = factory(ref, region, "lambda")
            for key, info in sorted(layers.items()):
                try:
                    layer_arn, number = str(info["arn"]).rsplit(":", 1)
                    got = client.get_layer_version(LayerName=layer_arn, VersionNumber=int(number))
                except aws.aws_errors() as exc:
                    raise ReleaseError(
                        f"stage {self.name}: recorded {info['arn']} cannot be read: "
                        f"{aws.describe_error(exc)}"
                    ) from None
                if got["Content"]["CodeSha256"] != expected.get(key):
                    raise ReleaseError(
                        f"stage {self.name}: {info['arn']} has CodeSha256 "
                        f"{got['Content']['CodeSha256']}, the sealed zip's is {expected.get(key)}"
                    )


def _errors() -> tuple[type[BaseException], ...]:
    return (ReleaseError, *aws.aws_errors())


def _publish_region(job: _Job, region: str, client: Any, local: LocalLambda | None) -> _Region:
    out = _Region(region, started=time.time())
    try:
        for python, arch in job.layer.variants():
            info = _publish_arch(job, client, python, arch)
            out.layers[job.layer.key(python, arch)] = info
            if job.layer.public:
                _ensure_public(client, job.layer.layer_name(arch, python), int(info["version"]))
            if job.layer.canary.enabled:
                info["canary"] = _canary(
                    job, client, str(info["arn"]), local, python=python, arch=arch
                )
    except _errors() as exc:
        message = exc.args[0] if isinstance(exc, ReleaseError) else aws.describe_error(exc)
        out.error = str(message).removeprefix(f"stage {job.stage}: ")
    out.finished = time.time()
    return out


def _publish_arch(job: _Job, client: Any, python: str, arch: str) -> dict[str, Any]:
    name = job.layer.layer_name(arch, python)
    data, sha = job.zips[job.layer.key(python, arch)]
    want = code_sha256(sha)
    found = _existing(client, name, want, job.description(arch))
    if found is not None:
        return {"arn": found["LayerVersionArn"], "version": found["Version"], "reused": True}
    kwargs: dict[str, Any] = {
        "LayerName": name,
        "Description": job.description(arch),
        "Content": {"ZipFile": data},
        "CompatibleRuntimes": job.layer.runtimes_of(python),
        "CompatibleArchitectures": [arch],
    }
    if job.layer.license_info:
        kwargs["LicenseInfo"] = job.layer.license_info
    resp = client.publish_layer_version(**kwargs)
    got = resp["Content"]["CodeSha256"]
    if got != want:
        raise ReleaseError(
            f"{name}: AWS computed CodeSha256 {got} for the upload of {resp['LayerVersionArn']}, "
            f"the sealed zip's is {want}"
        )
    return {"arn": resp["LayerVersionArn"], "version": resp["Version"], "reused": False}


def _existing(client: Any, name: str, want: str, description: str) -> dict[str, Any] | None:
    """A version of ``name`` holding exactly the sealed zip: among the versions with this
    release's description, and the newest, the one whose CodeSha256 is ``want``."""
    versions: list[dict[str, Any]] = []
    try:
        for page in client.get_paginator("list_layer_versions").paginate(LayerName=name):
            versions.extend(page.get("LayerVersions", []))
    except aws.aws_errors() as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    if not versions:
        return None
    newest = max(versions, key=lambda v: int(v["Version"]))
    candidates = [v for v in versions if v.get("Description") == description]
    if newest not in candidates:
        candidates.append(newest)
    for item in sorted(candidates, key=lambda v: -int(v["Version"])):
        got = client.get_layer_version(LayerName=name, VersionNumber=int(item["Version"]))
        if got["Content"]["CodeSha256"] == want:
            return dict(got)
    return None


def _ensure_public(client: Any, name: str, version: int) -> None:
    try:
        policy = json.loads(
            client.get_layer_version_policy(LayerName=name, VersionNumber=version)["Policy"]
        )
        statements = policy.get("Statement", [])
    except aws.aws_errors() as exc:
        if aws.error_code(exc) != "ResourceNotFoundException":
            raise
        statements = []
    for st in statements:
        actions = st.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if st.get("Principal") in ("*", {"AWS": "*"}) and "lambda:GetLayerVersion" in actions:
            return
    client.add_layer_version_permission(
        LayerName=name,
        VersionNumber=version,
        StatementId=PUBLIC_SID,
        Action="lambda:GetLayerVersion",
        Principal="*",
    )


def _retrying(call: Any, **kwargs: Any) -> Any:
    """CreateFunction, retried while IAM or a deleted namesake has not settled yet."""
    for attempt in range(6):
        try:
            return call(**kwargs)
        except aws.aws_errors() as exc:
            code = aws.error_code(exc)
            settling = code == "ResourceConflictException" or (
                code == "InvalidParameterValueException" and "role" in str(exc).lower()
            )
            if not settling or attempt == 5:
                raise
            time.sleep(2 * (attempt + 1))
    raise AssertionError("unreachable")


def _delete_function(client: Any, name: str) -> None:
    try:
        client.delete_function(FunctionName=name)
    except aws.aws_errors() as exc:
        if aws.error_code(exc) != "ResourceNotFoundException":
            raise


def _canary(
    job: _Job, client: Any, arn: str, local: LocalLambda | None, *, python: str, arch: str
) -> str:
    canary, ident = job.layer.canary, job.identity
    function = canary.function_name.format(layer=job.layer.layer_name(arch, python))
    if local is not None and (local.machine, local.python) != (arch, python):
        # The emulator's handlers run on this machine: another architecture's or Python's
        # native modules cannot load here (layer-build checked their wheel tags and ELF).
        return (
            f"{function} not run: the emulator's handlers run here on {local.machine} with "
            f"Python {local.python}, the layer is {arch} for Python {python}"
        )
    root = local.layer_root if local is not None else LAMBDA_LAYER_ROOT
    role = f"arn:{ident.partition}:iam::{ident.account_id}:role/{canary.role_name}"
    _delete_function(client, function)  # a leftover of an earlier, failed run
    try:
        _retrying(
            client.create_function,
            FunctionName=function,
            Runtime=f"python{python}",
            Role=role,
            Handler=f"{CANARY_MODULE}.handler",
            Code={"ZipFile": job.canary},
            Layers=[arn],
            Architectures=[arch],
            MemorySize=canary.memory_mb,
            Timeout=canary.timeout_s,
            Description=f"steward canary of {arn}"[:256],
        )
        client.get_waiter("function_active_v2").wait(
            FunctionName=function, WaiterConfig={"Delay": 2, "MaxAttempts": 150}
        )
        event = {
            "package": job.package,
            "version": job.version,
            "imports": job.imports,
            "layer_root": root,
        }
        resp = client.invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            LogType="Tail",
            Payload=json.dumps(event).encode(),
        )
        raw = resp["Payload"].read()
    finally:
        if not canary.keep_function:
            _delete_function(client, function)
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = raw.decode(errors="replace")
    problem = canary_problem(answer, job.version, root) if not resp.get("FunctionError") else None
    if resp.get("FunctionError") or problem is not None:
        if problem is None or (isinstance(answer, dict) and "errorMessage" in answer):
            problem = str(
                answer.get("errorMessage", answer) if isinstance(answer, dict) else answer
            )
        tail = base64.b64decode(resp.get("LogResult") or b"").decode(errors="replace")
        raise ReleaseError(
            f"canary {function} with {arn} failed: {problem[:500]}"
            + (f" | log: {tail.strip()[-500:]}" if tail.strip() else "")
        )
    imported = answer["imported"]
    return (
        f"{function} imported {imported['module']} {imported['version']} "
        f"({imported['via']}) from {imported['from']}"
    )


def canary_problem(answer: Any, version: str, layer_root: str) -> str | None:
    """Why the canary's ``answer`` does not prove the layer holds the release, or None.

    Only a run of the handler knows `imported`: an answer without it (e.g. the event echoed
    back by an emulator) proves nothing, whatever else it says."""
    imported = answer.get("imported") if isinstance(answer, dict) else None
    if not isinstance(imported, dict) or not all(
        isinstance(imported.get(k), str) for k in ("module", "version", "from")
    ):
        if isinstance(answer, dict) and "errorMessage" in answer:
            return str(answer["errorMessage"])
        return (
            "the canary's answer does not come from its handler (no 'imported' version and "
            f"path; an emulator that echoes the event?): {str(answer)[:200]}"
        )
    module, found, where = imported["module"], imported["version"], imported["from"]
    root = layer_root.rstrip("/") + "/"
    task_root = str(imported.get("task_root") or "").rstrip("/")
    if not where.startswith(root) or (task_root and where.startswith(task_root + "/")):
        return f"{module} was imported from {where}, not from the layer under {layer_root}"
    if found != version:
        via = imported.get("via", "__version__")
        return f"the layer's {module} is {found} ({via}), not the released {version}"
    return None


def check_parity(
    stage: str,
    factory: aws.ClientFactory,
    layer: LayerConfig,
    accounts: list[tuple[AccountRef, dict[str, Any]]],
) -> dict[str, Any]:
    """Every layer's recorded version, read back in every region of each account: the same
    version number and CodeSha256 everywhere; `skewed` lists the layers that are not."""
    table: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    skewed: list[str] = []
    for ref, details in accounts:
        regions = ref.config.regions
        by_tier: dict[str, dict[str, dict[str, Any]]] = {}
        for python, arch in layer.variants():
            key, name = layer.key(python, arch), layer.layer_name(arch, python)
            seen: dict[str, dict[str, Any]] = {}
            for region in regions:
                info = details.get("layers", {}).get(region, {}).get(key)
                if info is None:
                    seen[region] = {"version": None, "code_sha256": None}
                    continue
                client = factory(ref, region, "lambda")
                try:
                    got = client.get_layer_version(
                        LayerName=name, VersionNumber=int(info["version"])
                    )
                except aws.aws_errors() as exc:
                    raise ReleaseError(
                        f"stage {stage}: parity: {name} {info['version']} in {region} "
                        f"({ref.tier}) cannot be read: {aws.describe_error(exc)}"
                    ) from None
                seen[region] = {
                    "version": int(got["Version"]),
                    "code_sha256": str(got["Content"]["CodeSha256"]),
                }
            by_tier[name] = seen
            pairs = {(v["version"], v["code_sha256"]) for v in seen.values()}
            if len(pairs) > 1:
                listed = ", ".join(
                    f"{region} v{v['version']} {v['code_sha256']}" for region, v in seen.items()
                )
                skewed.append(f"{name} ({ref.tier}): {listed}")
        table[ref.tier] = by_tier
    if skewed:
        return {"accounts": table, "skewed": skewed, "summary": "out of step"}
    summary = ", ".join(
        f"{tier}: {len(names)} layers at one version each in {len(ref.config.regions)} regions"
        for (ref, _), (tier, names) in zip(accounts, table.items(), strict=True)
    )
    return {"accounts": table, "summary": summary}
