"""SAR beta and prod: a Serverless Application Repository version per region of an account.

The template (and the readme and license of a new application) are read from the sealed
source after its sha256 is checked, so what is published is what was sealed. Placeholders
`{{steward.version}}`, `{{steward.semantic_version}}`, `{{steward.region}}` and
`{{steward.layer_arn.<arch>}}` (the layer version the same tier published in that region)
are replaced; any other `{{steward.*}}` is an error. CloudFormation's own `{{resolve:...}}`
references are left alone.

Per region: the application is found by name (ListApplications); a missing one is created
with this version (CreateApplication), otherwise the version is created
(CreateApplicationVersion) unless the application already has this semantic version
(ListApplicationVersions): versions are idempotent by semantic version. `public: true` puts
a policy letting every account deploy it.

As the playbook ships it (`reusable_deploy_v3_sar.yml`): a name with `{pyver}`/`{arch}` makes
one application per layer layer-build sealed, and `bucket` packages the layer's content, as
`sam package` does: the sealed zip (hash checked) is uploaded to S3 under its sha256 and
`{{steward.layer_content_uri}}` names it in the template. In beta each application then gets
its canary stack: `CreateCloudFormationChangeSet` from the new version, the change set
executed, the stack waited for and checked (CREATE_COMPLETE; a layer version it made must
hold the sealed zip's CodeSha256), then deleted. A leftover canary stack is deleted first; a
failed one is kept for inspection.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from steward.config.pipeline import AwsAccount, SarConfig
from steward.errors import ReleaseError
from steward.pipeline import aws, layer_zip
from steward.pipeline.aws import AccountRef
from steward.pipeline.context import Context
from steward.pipeline.stages.layer_build import zip_name
from steward.pipeline.stages.layer_publish import Tier, code_sha256
from steward.pipeline.stages.seal import SOURCE
from steward.pipeline.state import StageRecord

_TOKEN = re.compile(r"\{\{\s*steward\.([A-Za-z0-9_.-]+)\s*\}\}")
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?"
)
_PRE = {"a": "alpha", "b": "beta", "rc": "rc"}


def semantic_version(version: str) -> str:
    """The SemVer 2.0 form of a PEP 440 version (SAR takes SemVer): 1.2 -> 1.2.0,
    1.3.0a1 -> 1.3.0-alpha.1, 1.3.0rc2.dev4 -> 1.3.0-rc.2.dev.4. Post and local releases and
    more than three release numbers have no SemVer form: set sar.semantic_version."""
    try:
        v = Version(version)
    except InvalidVersion:
        raise ReleaseError(f"stage sar: {version!r} is not a PEP 440 version") from None
    if len(v.release) > 3 or v.post is not None or v.local is not None or v.epoch:
        raise ReleaseError(
            f"stage sar: {version} has no SemVer form for SAR; set release.sar.semantic_version"
        )
    core = ".".join(str(n) for n in (*v.release, 0, 0)[:3])
    pre: list[str] = []
    if v.pre is not None:
        pre += [_PRE[v.pre[0]], str(v.pre[1])]
    if v.dev is not None:
        pre += ["dev", str(v.dev)]
    return core + ("-" + ".".join(pre) if pre else "")


def render(template: str, values: dict[str, str], where: str) -> str:
    """``template`` with every ``{{steward.KEY}}`` replaced; an unknown key is an error."""

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            known = ", ".join(sorted(values))
            raise ReleaseError(f"{where}: no value for {{{{steward.{key}}}}} (known: {known})")
        return values[key]

    return _TOKEN.sub(sub, template)


def sealed_files(path: Path, expected: str, names: list[str], stage: str) -> dict[str, bytes]:
    """Regular files ``names`` of the sealed source archive, read after checking its sha256
    (on the bytes read)."""
    from steward.pipeline import archive

    archive.verify(path, expected, stage)
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected:
        raise ReleaseError(f"stage {stage}: {path.name} changed while being read")
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for name in names:
            try:
                info = tar.getmember(name)
            except KeyError:
                raise ReleaseError(
                    f"stage {stage}: {name} is not in the sealed source (release commit)"
                ) from None
            fh = tar.extractfile(info) if info.isfile() else None
            if fh is None:
                raise ReleaseError(f"stage {stage}: {name} in the sealed source is not a file")
            out[name] = fh.read()
    return out


@dataclass(frozen=True)
class _App:
    """One application: the configured name, or one per (python, arch) layer."""

    name: str
    python: str | None = None
    arch: str | None = None
    key: str | None = None  # the layer's key (LayerConfig.key) when it has one


@dataclass
class _Job:
    stage: str
    tier: str
    account_id: str
    sar: SarConfig
    semver: str
    template: str
    values: dict[str, str]
    layer_arns: dict[str, dict[str, str]]  # region -> layer key -> ARN
    readme: str | None
    license: str | None
    apps: list[_App] = field(default_factory=list)
    zips: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # key -> (bytes, sha256)


@dataclass
class _Region:
    region: str
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0


class SarStage:
    def __init__(self, tier: Tier) -> None:
        self.tier: Tier = tier
        self.name = f"sar-{tier}"
        self.title = f"Publish SAR application to {tier}"

    def _account(self, ctx: Context) -> AwsAccount | None:
        sar = ctx.cfg.sar
        return None if sar is None else getattr(sar.accounts, self.tier)

    def unconfigured(self, ctx: Context) -> str | None:
        if ctx.cfg.sar is None:
            return "release.sar is not configured"
        if self._account(ctx) is None:
            return f"release.sar.accounts.{self.tier} is not configured"
        return None

    def preflight(self, ctx: Context) -> list[str]:
        account = self._account(ctx)
        problems = [] if account is None else aws.missing(account, ctx.env)
        sar = ctx.cfg.sar
        if sar is not None and sar.semantic_version is None:
            try:
                semantic_version(ctx.version)
            except ReleaseError as exc:
                problems.append(str(exc).removeprefix("stage sar: "))
        elif sar is not None and not _SEMVER.fullmatch(self._semver(ctx)):
            problems.append(f"sar.semantic_version {self._semver(ctx)!r} is not SemVer 2.0")
        return [f"{self.name}: {p}" for p in problems]

    def _semver(self, ctx: Context) -> str:
        sar = ctx.cfg.sar
        if sar is not None and sar.semantic_version:
            return sar.semantic_version.replace("{version}", ctx.version)
        return semantic_version(ctx.version)

    def plan(self, ctx: Context) -> list[str]:
        sar, account = ctx.cfg.sar, self._account(ctx)
        if sar is None or account is None:
            return []
        try:
            semver = self._semver(ctx)
        except ReleaseError as exc:
            semver = f"<{exc}>"
        names = ", ".join(a.name for a in _apps(ctx))
        lines = [
            f"{self.tier} account: {account.describe()}",
            f"read {sar.template} from {SOURCE} after checking its sha256",
            f"regions {', '.join(account.regions)}: application {names} version {semver} "
            "(created if missing; kept when that version exists)",
        ]
        if sar.bucket:
            lines.append(
                f"upload each sealed layer zip to s3://{sar.bucket}/ (its sha256 checked) for "
                "{{steward.layer_content_uri}}"
            )
        if sar.public:
            lines.append("PutApplicationPolicy: every account may deploy it")
        if self.tier == "beta" and sar.canary_enabled:
            lines.append(
                "canary stack per application: CreateCloudFormationChangeSet, execute, wait, "
                f"check, delete ({sar.canary.stack_name})"
            )
        return lines

    def run(self, ctx: Context, rec: StageRecord) -> None:
        sar, account = ctx.cfg.sar, self._account(ctx)
        if sar is None or account is None:
            raise ReleaseError(f"stage {self.name}: {self.unconfigured(ctx)}")
        semver = self._semver(ctx)
        if not _SEMVER.fullmatch(semver):
            raise ReleaseError(f"stage {self.name}: {semver!r} is not a SemVer 2.0 version")
        src, sha = ctx.sealed("seal", SOURCE, self.name)
        names = [sar.template, *(f for f in (sar.readme_file, sar.license_file) if f)]
        files = sealed_files(src, sha, names, self.name)
        text = {n: self._decode(n, b) for n, b in files.items()}
        layer_rec = ctx.state.stages.get(f"layer-{self.tier}")
        arns: dict[str, dict[str, str]] = {}
        if layer_rec is not None and layer_rec.status == "completed":
            for region, layers in layer_rec.details.get("layers", {}).items():
                arns[region] = {key: str(info["arn"]) for key, info in layers.items()}
        apps = _apps(ctx)
        zips: dict[str, tuple[bytes, str]] = {}
        if sar.bucket:
            for app in apps:
                if app.key is not None:
                    path, zsha = ctx.sealed("layer-build", zip_name(app.key), self.name)
                    zips[app.key] = (layer_zip.read_sealed(path, zsha, self.name), zsha)
        ref = AccountRef(self.name, self.tier, account)
        factory = ctx.aws_clients()
        ident = aws.identity(factory, ref)
        job = _Job(
            self.name,
            self.tier,
            ident.account_id,
            sar,
            semver,
            text[sar.template],
            {"version": ctx.version, "semantic_version": semver},
            arns,
            text.get(sar.readme_file or ""),
            text.get(sar.license_file or ""),
            apps,
            zips,
        )
        services = ["serverlessrepo"]
        services += ["s3"] if sar.bucket else []
        services += ["cloudformation", "lambda"] if self._canary(ctx) else []
        clients = {r: {s: factory(ref, r, s) for s in services} for r in account.regions}
        rec.details.update({"account": ident.account_id, "applications": {}})
        with ThreadPoolExecutor(max_workers=min(8, len(clients))) as pool:
            done = list(pool.map(lambda r: _publish_region(job, r, clients[r]), account.regions))
        for result in done:
            if not result.info:
                continue
            per_app = sar.per_layer
            rec.details["applications"][result.region] = (
                result.info if per_app else result.info[sar.name]
            )
            for name, info in result.info.items():
                ctx.echo(
                    f"  {result.region}: {name} {semver} {info['action']} "
                    f"({info['application_id']})"
                    + (f"; canary: {info['canary']}" if info.get("canary") else "")
                )
        rec.details["tasks"] = [
            {"title": r.region, "started": r.started, "finished": r.finished} for r in done
        ]
        failed = {r.region: r.error for r in done if r.error}
        if failed:
            rec.details["failed"] = failed
            listed = "; ".join(f"{region}: {err}" for region, err in failed.items())
            raise ReleaseError(
                f"stage {self.name}: failed in {len(failed)} of {len(done)} regions: {listed}"
            )

    def _canary(self, ctx: Context) -> bool:
        sar = ctx.cfg.sar
        return self.tier == "beta" and sar is not None and sar.canary_enabled

    def _decode(self, name: str, data: bytes) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ReleaseError(f"stage {self.name}: {name} is not UTF-8") from None

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        account = self._account(ctx)
        if account is None:
            raise ReleaseError(f"stage {self.name}: {self.unconfigured(ctx)}")
        ref = AccountRef(self.name, self.tier, account)
        factory = ctx.aws_clients()
        checks = []
        for region, found in sorted(rec.details.get("applications", {}).items()):
            apps = [found] if "application_id" in found else list(found.values())
            checks += [(region, info) for info in apps]
        for region, info in checks:
            client = factory(ref, region, "serverlessrepo")
            try:
                got = client.get_application(
                    ApplicationId=info["application_id"], SemanticVersion=info["semantic_version"]
                )
            except aws.aws_errors() as exc:
                raise ReleaseError(
                    f"stage {self.name}: recorded {info['application_id']} "
                    f"{info['semantic_version']} in {region} cannot be read: "
                    f"{aws.describe_error(exc)}"
                ) from None
            if got.get("Version", {}).get("SemanticVersion") != info["semantic_version"]:
                raise ReleaseError(
                    f"stage {self.name}: {info['application_id']} in {region} does not have "
                    f"version {info['semantic_version']}"
                )


def _errors() -> tuple[type[BaseException], ...]:
    return (ReleaseError, *aws.aws_errors())


def _apps(ctx: Context) -> list[_App]:
    """The applications of the release: one per (python, arch) layer when the name says so,
    else the one named (with the layer's content when there is exactly one layer)."""
    sar, layer = ctx.cfg.sar, ctx.cfg.layer
    assert sar is not None
    if layer is None:
        return [_App(sar.name)]
    variants = layer.variants()
    if sar.per_layer:
        return [_App(sar.application_name(p, a), p, a, layer.key(p, a)) for p, a in variants]
    if len(variants) == 1:
        p, a = variants[0]
        return [_App(sar.name, p, a, layer.key(p, a))]
    return [_App(sar.name)]


def _publish_region(job: _Job, region: str, clients: dict[str, Any]) -> _Region:
    out = _Region(region, started=time.time())
    try:
        for app in job.apps:
            out.info[app.name] = _publish(job, region, app, clients)
    except _errors() as exc:
        message = exc.args[0] if isinstance(exc, ReleaseError) else aws.describe_error(exc)
        out.error = str(message).removeprefix(f"stage {job.stage}: ")
    out.finished = time.time()
    return out


def _find(client: Any, name: str) -> str | None:
    token: str | None = None
    while True:
        page = client.list_applications(**({"NextToken": token} if token else {}))
        for app in page.get("Applications", []):
            if app.get("Name") == name:
                return str(app["ApplicationId"])
        token = page.get("NextToken")
        if not token:
            return None


def _has_version(client: Any, app_id: str, semver: str) -> bool:
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"ApplicationId": app_id}
        if token:
            kwargs["NextToken"] = token
        page = client.list_application_versions(**kwargs)
        if any(v.get("SemanticVersion") == semver for v in page.get("Versions", [])):
            return True
        token = page.get("NextToken")
        if not token:
            return False


def _upload(job: _Job, region: str, app: _App, s3: Any) -> dict[str, str]:
    """The sealed zip of ``app``'s layer in the account's bucket for ``region``, under its
    sha256 (uploaded once: a key that exists with that sha256 is kept)."""
    assert job.sar.bucket is not None
    assert app.key is not None
    data, sha = job.zips[app.key]
    bucket = job.sar.bucket.format(account=job.account_id, region=region)
    key = f"steward/{app.name}/{sha}.zip"
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if head.get("Metadata", {}).get("sha256") != sha:
            raise ReleaseError(f"s3://{bucket}/{key} holds other content than the sealed zip")
    except aws.aws_errors() as exc:
        if aws.error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
            raise
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            Metadata={"sha256": sha},
            ChecksumSHA256=code_sha256(sha),
        )
    return {
        "layer_content_uri": f"s3://{bucket}/{key}",
        "layer_bucket": bucket,
        "layer_key": key,
        "layer_sha256": sha,
    }


def _publish(job: _Job, region: str, app: _App, clients: dict[str, Any]) -> dict[str, Any]:
    sar, client = job.sar, clients["serverlessrepo"]
    values = {**job.values, "region": region, "application": app.name}
    for key, arn in job.layer_arns.get(region, {}).items():
        values[f"layer_arn.{key}"] = arn
    if app.key is not None and app.python is not None and app.arch is not None:
        values.update({"python": app.python, "runtime": f"python{app.python}", "arch": app.arch})
        if app.key in job.layer_arns.get(region, {}):
            values["layer_arn"] = job.layer_arns[region][app.key]
        if sar.bucket:
            values.update(_upload(job, region, app, clients["s3"]))
    body = render(job.template, values, f"{sar.template} for {region}")
    app_id = _find(client, app.name)
    if app_id is None:
        kwargs: dict[str, Any] = {
            "Name": app.name,
            "Author": sar.author,
            "Description": sar.description,
            "SemanticVersion": job.semver,
            "TemplateBody": body,
        }
        optional = {
            "HomePageUrl": sar.home_page_url,
            "SourceCodeUrl": sar.source_code_url,
            "SpdxLicenseId": sar.spdx_license_id,
            "ReadmeBody": job.readme,
            "LicenseBody": job.license,
            "Labels": sar.labels or None,
        }
        kwargs.update({k: v for k, v in optional.items() if v is not None})
        app_id = str(client.create_application(**kwargs)["ApplicationId"])
        action = "created with the application"
    elif _has_version(client, app_id, job.semver):
        action = "already there"
    else:
        kwargs = {"ApplicationId": app_id, "SemanticVersion": job.semver, "TemplateBody": body}
        if sar.source_code_url:
            kwargs["SourceCodeUrl"] = sar.source_code_url
        client.create_application_version(**kwargs)
        action = "created"
    if sar.public:
        client.put_application_policy(
            ApplicationId=app_id,
            Statements=[
                {"StatementId": "steward-public", "Principals": ["*"], "Actions": ["Deploy"]}
            ],
        )
    info: dict[str, Any] = {
        "application_id": app_id,
        "semantic_version": job.semver,
        "action": action,
        "template_sha256": hashlib.sha256(body.encode()).hexdigest(),
    }
    if app.key is not None:
        info.update({"python": app.python, "arch": app.arch, "layer": app.key})
    if "layer_content_uri" in values:
        info["content"] = values["layer_content_uri"]
    if "cloudformation" in clients:
        sha = job.zips[app.key][1] if app.key in job.zips else None
        info.update(_canary_stack(job, app, app_id, sha, clients))
    return info


def _stack_status(cfn: Any, stack: str) -> str | None:
    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except aws.aws_errors() as exc:
        if aws.error_code(exc) == "ValidationError":  # "Stack ... does not exist"
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def _wait(cfn: Any, waiter: str, timeout: int, **kwargs: Any) -> None:
    delay = 5
    config = {"Delay": delay, "MaxAttempts": max(1, timeout // delay)}
    cfn.get_waiter(waiter).wait(WaiterConfig=config, **kwargs)


def _canary_stack(
    job: _Job, app: _App, app_id: str, sha: str | None, clients: dict[str, Any]
) -> dict[str, Any]:
    """The playbook's beta canary: the new version deployed as a stack through SAR's change
    set, checked, then deleted (kept when it failed, for inspection)."""
    canary, cfn = job.sar.canary, clients["cloudformation"]
    stack = canary.stack_name.format(application=app.name)
    full = f"serverlessrepo-{stack}"  # SAR prefixes the stacks it makes
    status = _stack_status(cfn, full)
    if status is not None and status != "DELETE_COMPLETE":  # a leftover of an earlier run
        cfn.delete_stack(StackName=full)
        _wait(cfn, "stack_delete_complete", canary.timeout_s, StackName=full)
    made = clients["serverlessrepo"].create_cloud_formation_change_set(
        ApplicationId=app_id,
        SemanticVersion=job.semver,
        StackName=stack,
        Capabilities=list(canary.capabilities),
    )
    change_set, stack_id = str(made["ChangeSetId"]), str(made["StackId"])
    try:
        _wait(cfn, "change_set_create_complete", canary.timeout_s, ChangeSetName=change_set)
        cfn.execute_change_set(ChangeSetName=change_set)
        _wait(cfn, "stack_create_complete", canary.timeout_s, StackName=stack_id)
    except Exception as exc:
        if type(exc).__name__ != "WaiterError":
            raise
        raise ReleaseError(
            f"canary stack {full} of {app.name} {job.semver} did not deploy "
            f"({_stack_status(cfn, stack_id)}): {exc}; it is kept for inspection"
        ) from None
    status = _stack_status(cfn, stack_id)
    if status != "CREATE_COMPLETE":
        raise ReleaseError(f"canary stack {full} is {status}, not CREATE_COMPLETE; kept")
    checked = _canary_layers(cfn, clients["lambda"], stack_id, sha, full)
    if not canary.keep_stack:
        cfn.delete_stack(StackName=stack_id)
        _wait(cfn, "stack_delete_complete", canary.timeout_s, StackName=stack_id)
    kept = "kept" if canary.keep_stack else "deleted"
    return {"canary": f"stack {full} CREATE_COMPLETE, {checked}, {kept}", "stack": full}


def _canary_layers(cfn: Any, lam: Any, stack_id: str, sha: str | None, full: str) -> str:
    """What the stack's layer versions hold: each must be the sealed zip (CodeSha256)."""
    resources = cfn.list_stack_resources(StackName=stack_id).get("StackResourceSummaries", [])
    layers = [
        str(r.get("PhysicalResourceId", ""))
        for r in resources
        if r.get("ResourceType") == "AWS::Lambda::LayerVersion"
    ]
    arns = [arn for arn in layers if arn.startswith("arn:") and ":layer:" in arn]
    if sha is None or not arns:
        return f"{len(layers)} layer versions (content not compared)"
    want = code_sha256(sha)
    for arn in arns:
        got = lam.get_layer_version_by_arn(Arn=arn)["Content"]["CodeSha256"]
        if got != want:
            raise ReleaseError(
                f"canary stack {full}: {arn} has CodeSha256 {got}, the sealed zip's is {want}"
            )
    return f"{len(arns)} layer versions with the sealed zip's CodeSha256"
