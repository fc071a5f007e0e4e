"""Provenance on the GitHub release: the signed attestation, its public key and SHA256SUMS
attached as release assets, as the playbook's ``upload-release-provenance`` job does, so
anyone can check a release's artifacts from the release page alone (`release verify
--release`).

Idempotent without trusting names alone: an asset already on the release under the same name
is left alone only when its content is the same (GitHub's ``digest`` when it reports one,
else the bytes downloaded); the same name with other content is an error naming it, never
replaced, since a release's provenance that changes after the fact is what this exists to
catch. A second run uploads nothing. The HTTP lives in the adapter (`RepoApi`), which sends
the token only to the upload host the API named for the release, and only when that host is
on its allowlist.

Beside them goes the run record, ``steward-run.json`` (`report.RunRecord`: each stage's
name, title, status and times, what the Gantt needs), so a page can draw the run from the
release alone. It is no provenance: `release verify --release` never reads it (`ASSETS` does
not name it), and a record already on the release is kept whatever it holds (the record of
the run that attached it first; a resumed run's would differ only in the post-release
stage's start). `report.read_run_record` downloads one through the adapter, capped and
checked against GitHub's digest, and parses it as the untrusted data it is.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from steward.errors import ReleaseError, TamperedArtifactError
from steward.fsutil import atomic_write_text
from steward.github.records import GitHubRelease, ReleaseAsset
from steward.github.repo_api import RepoApi
from steward.pipeline import archive
from steward.pipeline.context import Context
from steward.pipeline.report import RUN_RECORD, RunRecord
from steward.pipeline.stages.build import DIST, artifact_hashes
from steward.pipeline.stages.provenance import ATTESTATION, PUBLIC_KEY
from steward.workspace import Limit, read_bytes

SHA256SUMS = "SHA256SUMS"
ASSETS = (ATTESTATION, PUBLIC_KEY, SHA256SUMS)
# GitHub's description documents only this media type for uploads; browsers save it as a file.
CONTENT_TYPE = "application/octet-stream"
MAX_ASSET = int(Limit.PROVENANCE)  # the largest of the three (a release's is kilobytes)
STAGE = "post-release"


def sha256sums(hashes: Mapping[str, str]) -> str:
    """``sha256sum``'s format: one ``<sha256>  <name>`` line per artifact, sorted by name
    (``sha256sum -c SHA256SUMS`` checks a download with no steward installed)."""
    return "".join(f"{hashes[name]}  {name}\n" for name in sorted(hashes))


def parse_sha256sums(text: str, where: str) -> dict[str, str]:
    """name -> sha256 from ``sha256sum`` output (``*name``, binary mode, accepted); a line
    that is not one, or a name listed twice, is a `TamperedArtifactError` naming ``where``."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep:
            digest, sep, name = line.partition(" *")
        digest = digest.lower()
        if (
            not sep
            or not name
            or len(digest) != 64
            or any(c not in "0123456789abcdef" for c in digest)
        ):
            raise TamperedArtifactError(f"{where}:{n}: not a '<sha256>  <name>' line")
        if name in out:
            raise TamperedArtifactError(f"{where}:{n}: {name} is listed twice")
        out[name] = digest
    if not out:
        raise TamperedArtifactError(f"{where}: lists no artifact")
    return out


def upload_release_assets(
    github: RepoApi, release: GitHubRelease, files: list[Path]
) -> list[ReleaseAsset]:
    """Attach ``files`` to ``release`` by their names; each asset as it is on the release.

    One listing of the release's assets, then for each file: the same name with the same
    content is kept, the same name with other content (or an upload that never finished)
    is a `TamperedArtifactError`, a new name is uploaded. Every file is checked before the
    first upload, so a refusal leaves the release as it was.
    """
    return [asset for asset, _ in _attach(github, release, files)]


def _listed(github: RepoApi, release: GitHubRelease) -> dict[str, ReleaseAsset]:
    """The release's assets by name (one listing)."""
    if release.id is None:
        raise ReleaseError(f"release {release.tag_name}: GitHub gave it no id")
    return {a.name: a for a in github.release_assets(release.id)}


def _attach(
    github: RepoApi,
    release: GitHubRelease,
    files: list[Path],
    existing: Mapping[str, ReleaseAsset] | None = None,
) -> list[tuple[ReleaseAsset, bool]]:
    """`upload_release_assets`, each asset with whether it was uploaded now (``existing``:
    the release's assets, when the caller listed them already)."""
    if existing is None:
        existing = _listed(github, release)
    planned: list[tuple[str, bytes, ReleaseAsset | None]] = []
    for path in files:
        data = read_bytes(path, MAX_ASSET, "release asset", error=ReleaseError)
        have = existing.get(path.name)
        if have is not None:
            _check_same(github, release, have, data)
        planned.append((path.name, data, have))
    out: list[tuple[ReleaseAsset, bool]] = []
    for name, data, have in planned:
        if have is None:
            out.append((github.upload_release_asset(release, name, data, CONTENT_TYPE), True))
        else:
            out.append((have, False))
    return out


def _check_same(github: RepoApi, release: GitHubRelease, asset: ReleaseAsset, data: bytes) -> None:
    """Refuse unless ``asset`` holds ``data``: GitHub's digest when it has one (no
    download), else the size, then the bytes."""
    where = f"release {release.tag_name}: asset {asset.name}"
    _finished(release, asset)
    ours = hashlib.sha256(data).hexdigest()
    if asset.sha256 is not None:
        same = asset.sha256 == ours
    elif asset.size != len(data):
        same = False
    else:
        same = github.download_release_asset(asset, max_bytes=MAX_ASSET) == data
    if not same:
        raise TamperedArtifactError(
            f"{where} is already there with other content than this release's (sha256 "
            f"{ours}); refusing to replace it: check who changed it, delete it on GitHub if "
            "it is wrong, then run again"
        )


def _finished(release: GitHubRelease, asset: ReleaseAsset) -> None:
    """Refuse an asset whose upload never finished: it holds no content to compare."""
    if asset.state != "uploaded":
        raise TamperedArtifactError(
            f"release {release.tag_name}: asset {asset.name} is an upload that did not "
            f"finish (state {asset.state or 'unknown'}); delete it on GitHub, then run again"
        )


def release_files(ctx: Context, by: str = STAGE) -> list[Path]:
    """The sealed attestation and key (their recorded hashes checked) and SHA256SUMS of the
    sealed artifacts, written now into the release directory; in `ASSETS`' order."""
    paths = []
    for name in (ATTESTATION, PUBLIC_KEY):
        path, sha = ctx.sealed("provenance", name, by)
        archive.verify(path, sha, by)
        paths.append(path)
    src, sha = ctx.sealed("build", DIST, by)
    dist = archive.restore(src, sha, ctx.work("release-assets"), by)
    sums = ctx.dir / SHA256SUMS
    atomic_write_text(sums, sha256sums(artifact_hashes(dist)), newline="")
    return [*paths, sums]


def find_release(github: RepoApi, tag: str) -> GitHubRelease:
    """The release of ``tag``, drafts included (the tags endpoint does not list drafts)."""
    for rel in github.releases():
        if rel.tag_name == tag:
            return rel
    raise ReleaseError(f"stage {STAGE}: no GitHub release for {tag} in {github.full_name}")


def publish_provenance(
    ctx: Context, github: RepoApi, release: GitHubRelease | None = None
) -> dict[str, Any]:
    """Attach the release's provenance (`ASSETS`) to its GitHub release (``None``: the one
    of ``ctx.tag``, found by listing); details for the stage record: every asset's name
    and sha256, which were uploaded now and which were there already.

    A release whose provenance stage is not in its stages, or was skipped, has nothing to
    attach: ``{"skipped": why}``, nothing sent. One that should have it and does not is an
    error (`Context.sealed`).
    """
    prov = ctx.state.stages.get("provenance")
    if prov is None or prov.status == "skipped":
        ctx.echo("  no provenance in this release: nothing to attach")
        return {"skipped": "no provenance stage in this release"}
    if release is None or release.upload_url is None:
        release = find_release(github, ctx.tag)
    files = release_files(ctx)
    existing = _listed(github, release)
    attached = _attach(github, release, files, existing)
    details: dict[str, Any] = {
        "release": release.html_url or release.tag_name,
        "assets": {p.name: archive.sha256_file(p) for p in files},
        "uploaded": [a.name for a, now in attached if now],
        "unchanged": [a.name for a, now in attached if not now],
    }
    for name in details["uploaded"]:
        ctx.echo(f"  attached {name} to {release.tag_name}")
    if details["unchanged"]:
        ctx.echo(f"  already on {release.tag_name}: {', '.join(details['unchanged'])}")
    details["run_record"] = attach_run_record(ctx, github, release, existing=existing)
    return details


def run_record(ctx: Context, clock: Callable[[], float] = time.time) -> RunRecord:
    """The record of ``ctx``'s run as it stands (the attaching stage still running)."""
    from steward.pipeline.stages import all_stages

    titles = {name: stage.title for name, stage in all_stages().items()}
    return RunRecord.from_state(ctx.state, titles, recorded_at=clock())


def attach_run_record(
    ctx: Context,
    github: RepoApi,
    release: GitHubRelease,
    clock: Callable[[], float] = time.time,
    *,
    existing: Mapping[str, ReleaseAsset] | None = None,
) -> str:
    """Attach ``steward-run.json`` to ``release`` unless it has one (an upload that did not
    finish is refused, as for the other assets): ``"uploaded"`` or ``"unchanged"``. The
    file is also written into the release directory. ``existing``: the release's assets,
    when the caller listed them already."""
    have = (existing if existing is not None else _listed(github, release)).get(RUN_RECORD)
    if have is not None:
        _finished(release, have)
        ctx.echo(f"  already on {release.tag_name}: {RUN_RECORD}")
        return "unchanged"
    data = run_record_bytes(run_record(ctx, clock))
    atomic_write_text(ctx.dir / RUN_RECORD, data.decode("utf-8"), newline="")
    github.upload_release_asset(release, RUN_RECORD, data, CONTENT_TYPE)
    ctx.echo(f"  attached {RUN_RECORD} to {release.tag_name}")
    return "uploaded"


def run_record_bytes(record: RunRecord) -> bytes:
    """The record as the asset holds it: JSON, keys sorted, one line."""
    text = json.dumps(record.to_json(), sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def plan_lines(ctx: Context) -> list[str]:
    """What `publish_provenance` will do, for a stage's plan."""
    return [
        f"attach {', '.join(ASSETS)} to the GitHub release {ctx.tag} (an asset already "
        "there is kept when its content is the same, refused when it differs), and the run "
        f"record {RUN_RECORD} unless it has one"
    ]
