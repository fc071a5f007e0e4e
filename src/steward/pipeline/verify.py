"""`steward release verify`: check a dist directory against signed provenance.

Independent of the signing side: it reads the `.intoto.jsonl` file line by line, verifies
each DSSE signature over the PAE with the given Ed25519 public key, checks the in-toto
Statement's type and SLSA predicate type, and compares every artifact's sha256 with the
subjects. Any difference is an error; nothing is trusted from the dist directory itself.

From a GitHub release (`verify_release`): the attestation, the key and SHA256SUMS come from
the release's assets, downloaded through the adapter (each checked against GitHub's own
digest of it when GitHub reports one), and SHA256SUMS must say exactly what the signed
subjects say. A key taken from the release proves only that the release is consistent with
itself; ``--public-key`` pins a key the user trusts, and the release's key must then be it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from steward import limits
from steward.errors import NotFoundError, ReleaseError, TamperedArtifactError, UsageError
from steward.pipeline import dsse, provenance
from steward.pipeline.release_assets import ASSETS, SHA256SUMS, parse_sha256sums
from steward.pipeline.stages.provenance import ATTESTATION, PUBLIC_KEY
from steward.workspace import Limit, Workspace, read_bytes

if TYPE_CHECKING:
    from steward.github.records import ReleaseAsset
    from steward.github.repo_api import RepoApi

MAX_PROVENANCE_BYTES = int(Limit.PROVENANCE)  # a release's attestation is kilobytes
_ASSET_LIMITS = {ATTESTATION: MAX_PROVENANCE_BYTES, PUBLIC_KEY: int(Limit.KEY)}


@dataclass(frozen=True, slots=True)
class Verified:
    subjects: dict[str, str]
    envelopes: int


@dataclass(frozen=True, slots=True)
class ReleaseVerified(Verified):
    """`Verified`, from a GitHub release: which one, and whose key checked it."""

    repository: str = ""
    tag: str = ""
    url: str = ""
    key_from: str = "release"  # "release" or "--public-key"


def verify_dist(dist: Path, provenance_file: Path, public_key_file: Path) -> Verified:
    # Typed on the command line: anywhere, but regular files (a FIFO would block the read).
    ws = Workspace(Path())
    ws.cli_path(provenance_file, "--provenance")
    ws.cli_path(public_key_file, "--public-key")
    ws.cli_path(dist, "DIST_DIR", kind="dir")
    key = read_bytes(public_key_file, Limit.KEY, "public key", error=UsageError)
    raw = read_bytes(
        provenance_file, MAX_PROVENANCE_BYTES, "provenance", error=TamperedArtifactError
    )
    subjects, count = check_provenance(raw, dsse.load_public_key(key), str(provenance_file))
    _check_dist(subjects, dist)
    return Verified(subjects, count)


def check_provenance(raw: bytes, key: Ed25519PublicKey, where: str) -> tuple[dict[str, str], int]:
    """The subjects (name -> sha256) and number of envelopes of a signed ``.intoto.jsonl``;
    a `TamperedArtifactError` naming ``where`` for any envelope that does not verify."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TamperedArtifactError(
            f"{where}: not UTF-8 text (byte {exc.start}): not a provenance file"
        ) from None
    subjects: dict[str, str] = {}
    count = 0
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        envelope = limits.loads_json(line, f"{where}:{n}: the envelope", TamperedArtifactError)
        try:
            payload_type, payload = dsse.open_envelope(envelope, key)
            if payload_type != dsse.INTOTO_PAYLOAD_TYPE:
                raise TamperedArtifactError(f"payloadType {payload_type!r} is not in-toto")
            subjects.update(provenance.check_statement(payload))
        except TamperedArtifactError as exc:
            raise TamperedArtifactError(f"{where}:{n}: {exc}") from None
        count += 1
    if not count:
        raise TamperedArtifactError(f"{where}: no envelopes")
    return subjects, count


def _check_dist(subjects: dict[str, str], dist: Path) -> None:
    problems = provenance.check_artifacts(subjects, dist)
    if problems:
        raise TamperedArtifactError("artifacts do not match the provenance: " + "; ".join(problems))


# -- from a GitHub release --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReleaseRef:
    """Which release: OWNER/NAME, the tag, and the web host a URL named (``None``: a tag)."""

    repository: str
    tag: str
    host: str | None = None


def release_ref(text: str, repository: str | None) -> ReleaseRef:
    """``https://HOST/OWNER/NAME/releases/tag/TAG`` or a bare tag with ``repository``; any
    other form is a `UsageError` saying which are understood."""
    if "://" not in text:
        if not repository:
            raise UsageError(
                f"--release {text!r} is a tag: say whose with --repo OWNER/NAME "
                "(or GITHUB_REPOSITORY), or give the release's URL"
            )
        if not text.strip() or any(c.isspace() for c in text):
            raise UsageError(f"--release {text!r} is not a tag")
        return ReleaseRef(repository, text)
    parts = urlsplit(text)
    segments = parts.path.strip("/").split("/")
    if (
        parts.scheme != "https"
        or not parts.hostname
        or len(segments) < 5
        or segments[2:4] != ["releases", "tag"]
        or not all(segments)
    ):
        raise UsageError(
            f"--release {text[:200]!r} is not a release URL "
            "(https://github.com/OWNER/NAME/releases/tag/TAG)"
        )
    found = f"{segments[0]}/{segments[1]}"
    if repository and repository.casefold() != found.casefold():
        raise UsageError(f"--release names {found}, --repo says {repository}: give one")
    return ReleaseRef(found, unquote("/".join(segments[4:])), parts.hostname.lower())


def verify_release(
    api: RepoApi, tag: str, dist: Path, public_key_file: Path | None = None
) -> ReleaseVerified:
    """Check ``dist`` against the provenance, key and SHA256SUMS attached to the release of
    ``tag``; ``public_key_file`` pins the key (the release's must then be the same)."""
    ws = Workspace(Path())
    ws.cli_path(dist, "--dist", kind="dir")
    pinned = None
    if public_key_file is not None:
        ws.cli_path(public_key_file, "--public-key")
        pinned = read_bytes(public_key_file, Limit.KEY, "public key", error=UsageError)
    name = f"release {tag} of {api.full_name}"
    try:
        release = api.release_by_tag(tag)
    except NotFoundError:
        raise NotFoundError(
            f"{name}: no such release (or the token cannot see it; a draft has no tag URL)",
            status=404,
        ) from None
    if release.id is None:
        raise ReleaseError(f"{name}: GitHub gave it no id")
    assets = {a.name: a for a in api.release_assets(release.id)}
    missing = [n for n in ASSETS if n not in assets]
    if missing:
        listed = ", ".join(sorted(assets)) or "none"
        raise ReleaseError(
            f"{name} has no {', '.join(missing)} asset (its assets: {listed}); was it "
            "released with steward's post-release stage?"
        )
    data = {n: _download(api, assets[n], name) for n in ASSETS}
    try:
        on_release = dsse.load_public_key(data[PUBLIC_KEY])
    except ReleaseError as exc:
        raise TamperedArtifactError(f"{name}: asset {PUBLIC_KEY}: {exc}") from None
    key = on_release if pinned is None else dsse.load_public_key(pinned)
    if dsse.public_pem(on_release) != dsse.public_pem(key):
        raise TamperedArtifactError(
            f"{name}: asset {PUBLIC_KEY} is not the key given with --public-key"
        )
    subjects, count = check_provenance(data[ATTESTATION], key, f"{name}: asset {ATTESTATION}")
    _check_sums(data[SHA256SUMS], subjects, f"{name}: asset {SHA256SUMS}")
    _check_dist(subjects, dist)
    return ReleaseVerified(
        subjects,
        count,
        repository=api.full_name,
        tag=tag,
        url=release.html_url or "",
        key_from="--public-key" if pinned is not None else "release",
    )


def _download(api: RepoApi, asset: ReleaseAsset, name: str) -> bytes:
    """The asset's bytes, checked against GitHub's digest of them when it reports one."""
    cap = _ASSET_LIMITS.get(asset.name, MAX_PROVENANCE_BYTES)
    data = api.download_release_asset(asset, max_bytes=cap)
    if asset.sha256 is not None and hashlib.sha256(data).hexdigest() != asset.sha256:
        raise TamperedArtifactError(
            f"{name}: asset {asset.name}: the bytes downloaded are not what GitHub's digest "
            f"says ({asset.digest})"
        )
    return data


def _check_sums(raw: bytes, subjects: dict[str, str], where: str) -> None:
    """SHA256SUMS must list exactly the signed subjects, with the same hashes."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TamperedArtifactError(f"{where}: not UTF-8 text") from None
    sums = parse_sha256sums(text, where)
    problems = [
        f"{n}: sha256 {sums[n]}, provenance says {subjects[n]}"
        for n in sorted(sums.keys() & subjects.keys())
        if sums[n] != subjects[n]
    ]
    problems += [f"{n}: not in the provenance" for n in sorted(sums.keys() - subjects.keys())]
    problems += [f"{n}: missing" for n in sorted(subjects.keys() - sums.keys())]
    if problems:
        raise TamperedArtifactError(
            f"{where} does not match the signed provenance: " + "; ".join(problems)
        )
