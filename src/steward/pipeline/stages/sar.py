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
from steward.pipeline import aws
from steward.pipeline.aws import AccountRef
from steward.pipeline.context import Context
from steward.pipeline.stages.layer_publish import Tier
from steward.pipeline.stages.seal import SOURCE
from steward.pipeline.state import StageRecord

_TOKEN = re.compile(r"\{\{\s*steward\.([A-Za-z0-9_.]+)\s*\}\}")
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


@dataclass
class _Job:
    stage: str
    sar: SarConfig
    semver: str
    template: str
    values: dict[str, str]
    layer_arns: dict[str, dict[str, str]]  # region -> arch -> ARN
    readme: str | None
    license: str | None


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
        lines = [
            f"{self.tier} account: {account.describe()}",
            f"read {sar.template} from {SOURCE} after checking its sha256",
            f"regions {', '.join(account.regions)}: application {sar.name} version {semver} "
            "(created if missing; kept when that version exists)",
        ]
        if sar.public:
            lines.append("PutApplicationPolicy: every account may deploy it")
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
                arns[region] = {arch: str(info["arn"]) for arch, info in layers.items()}
        job = _Job(
            self.name,
            sar,
            semver,
            text[sar.template],
            {"version": ctx.version, "semantic_version": semver},
            arns,
            text.get(sar.readme_file or ""),
            text.get(sar.license_file or ""),
        )
        ref = AccountRef(self.name, self.tier, account)
        factory = ctx.aws_clients()
        ident = aws.identity(factory, ref)
        clients = {r: factory(ref, r, "serverlessrepo") for r in account.regions}
        rec.details.update({"account": ident.account_id, "applications": {}})
        with ThreadPoolExecutor(max_workers=min(8, len(clients))) as pool:
            done = list(pool.map(lambda r: _publish_region(job, r, clients[r]), account.regions))
        for result in done:
            if result.info:
                rec.details["applications"][result.region] = result.info
                ctx.echo(
                    f"  {result.region}: {sar.name} {semver} {result.info['action']} "
                    f"({result.info['application_id']})"
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
        for region, info in sorted(rec.details.get("applications", {}).items()):
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


def _publish_region(job: _Job, region: str, client: Any) -> _Region:
    out = _Region(region, started=time.time())
    try:
        out.info = _publish(job, region, client)
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


def _publish(job: _Job, region: str, client: Any) -> dict[str, Any]:
    sar = job.sar
    values = {**job.values, "region": region}
    for arch, arn in job.layer_arns.get(region, {}).items():
        values[f"layer_arn.{arch}"] = arn
    body = render(job.template, values, f"{sar.template} for {region}")
    app_id = _find(client, sar.name)
    if app_id is None:
        kwargs: dict[str, Any] = {
            "Name": sar.name,
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
    return {
        "application_id": app_id,
        "semantic_version": job.semver,
        "action": action,
        "template_sha256": hashlib.sha256(body.encode()).hexdigest(),
    }
