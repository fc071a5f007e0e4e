"""Provenance on the GitHub release, end to end: a real sealed release (sample project,
pypiserver, bare remote), its attestation, key and SHA256SUMS attached to the (local,
description-checked) GitHub release by `publish_provenance`, once; then `steward release
verify --release URL` checks the artifacts against those assets and refuses a tampered one,
naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from steward.config.loader import load_config
from steward.github.client import GitHubClient
from steward.github.repo_api import RepoApi
from steward.pipeline import archive
from steward.pipeline import state as st
from steward.pipeline.context import Context
from steward.pipeline.release_assets import ASSETS, SHA256SUMS, publish_provenance, sha256sums
from steward.pipeline.runner import RunOptions, run_release
from steward.pipeline.stages.build import DIST
from steward.pipeline.stages.provenance import ATTESTATION, PUBLIC_KEY
from tests.pipeline.conftest import Sample, make_sample
from tests.pipeline.release_assets_github import AssetGitHub
from tests.support.cli import run_cli

VERSION = "1.2.0"
TAG = f"v{VERSION}"
URL = f"https://github.com/octo-org/sample/releases/tag/{TAG}"


@pytest.fixture
def gh() -> Iterator[AssetGitHub]:
    with AssetGitHub() as server:
        yield server
    assert server.violations == []


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    """One real release of the sample (seal .. tag, published to pypiserver), made once."""
    from tests.pipeline.conftest import PASSWORD, USER
    from tests.support.pypi_index import running_index

    tmp = tmp_path_factory.mktemp("sealed")
    with running_index(tmp, USER, PASSWORD) as index:
        sample = make_sample(tmp, index, extra="  repository: octo-org/sample\n")
        config = load_config(sample.root / ".github" / "steward.yml")
        run_release(
            sample.root,
            config,
            RunOptions(version=VERSION, env=sample.env(), echo=lambda _m: None),
        )
        yield sample


def context(sample: Sample, gh: AssetGitHub) -> Context:
    config = load_config(sample.root / ".github" / "steward.yml")
    rdir = sample.release_dir / VERSION
    state = st.load(rdir / "state.json")
    assert state is not None
    assert state.finished
    return Context(
        sample.root,
        VERSION,
        False,
        config,
        state,
        rdir,
        sample.env(),
        lambda _m: None,
        lambda: client(gh),
    )


def client(gh: AssetGitHub) -> GitHubClient:
    return GitHubClient(gh.token, gh.url, max_retries=0, uploads_url=gh.uploads_url)


def dist_of(sample: Sample, dest: Path) -> Path:
    """The sealed artifacts, as a user would have downloaded them."""
    dest.mkdir()
    for name, data in archive.members(sample.release_dir / VERSION / DIST).items():
        (dest / name).write_bytes(data)
    return dest


@pytest.fixture
def published(sealed: Sample, gh: AssetGitHub) -> dict[str, object]:
    """The release on GitHub with the provenance attached, through `publish_provenance`."""
    rel = gh.add_release(TAG)
    ctx = context(sealed, gh)
    details = publish_provenance(ctx, RepoApi(client(gh), gh.repo))
    assert details["uploaded"] == list(ASSETS)
    return rel


def verify(
    gh: AssetGitHub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
) -> tuple[int, str, str]:
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", gh.token)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    return run_cli(["release", "verify", *args], capsys)


def test_publish_attaches_the_sealed_provenance_once(
    sealed: Sample, gh: AssetGitHub, published: dict[str, object]
) -> None:
    rdir = sealed.release_dir / VERSION
    on_release = gh.asset_bytes(published)
    assert on_release[ATTESTATION] == (rdir / ATTESTATION).read_bytes()
    assert on_release[PUBLIC_KEY] == (rdir / PUBLIC_KEY).read_bytes()
    hashes = {n: archive.sha256_file(p) for n, p in _artifacts(sealed).items()}
    assert on_release[SHA256SUMS].decode() == sha256sums(hashes)

    gh.reset_calls()
    uploads = len(gh.uploaded)
    again = publish_provenance(context(sealed, gh), RepoApi(client(gh), gh.repo))
    assert again["uploaded"] == []
    assert again["unchanged"] == list(ASSETS)
    assert len(gh.uploaded) == uploads
    assert gh.writes() == []


def _artifacts(sample: Sample) -> dict[str, Path]:
    out = sample.release_dir.parent / "artifacts-check"
    if not out.exists():
        dist_of(sample, out)
    return {p.name: p for p in out.iterdir()}


def test_verify_from_the_release_url(
    sealed: Sample,
    gh: AssetGitHub,
    published: dict[str, object],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dist = dist_of(sealed, tmp_path / "dist")
    code, out, err = verify(gh, capsys, monkeypatch, "--release", URL, "--dist", str(dist))
    assert code == 0, err
    assert "verified 2 artifact(s) against 1 envelope(s)" in out
    assert f"from release {TAG} of octo-org/sample" in out
    assert "pass --public-key to pin" in err
    for asset in gh.storage.seen:
        assert "authorization" not in asset.headers

    # a tag and --repo, and the key pinned: the same answer, and no note
    code, out, err = verify(
        gh,
        capsys,
        monkeypatch,
        str(dist),
        "--release",
        TAG,
        "--repo",
        "octo-org/sample",
        "--public-key",
        str(sealed.public_pem),
    )
    assert code == 0, err
    assert "pin" not in err

    code, out, err = verify(gh, capsys, monkeypatch, str(dist), "--release", URL, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["verified"] is True
    assert report["release"] == {
        "repository": "octo-org/sample",
        "tag": TAG,
        "url": URL,
        "key_from": "release",
    }


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (SHA256SUMS, b"0" * 64 + b"  sample-1.2.0.tar.gz\n", "asset SHA256SUMS"),
        (ATTESTATION, b"{}\n", "asset multiple.intoto.jsonl"),
    ],
)
def test_verify_refuses_a_tampered_asset(
    sealed: Sample,
    gh: AssetGitHub,
    published: dict[str, object],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    data: bytes,
    message: str,
) -> None:
    dist = dist_of(sealed, tmp_path / "dist")
    gh.tamper(published, name, data)
    code, _, err = verify(gh, capsys, monkeypatch, "--release", URL, "--dist", str(dist))
    assert code == 1
    assert message in err


def test_verify_refuses_bytes_that_are_not_githubs_digest(
    sealed: Sample,
    gh: AssetGitHub,
    published: dict[str, object],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dist = dist_of(sealed, tmp_path / "dist")
    gh.tamper(published, PUBLIC_KEY, b"-----BEGIN PUBLIC KEY-----\n", keep_digest=True)
    code, _, err = verify(gh, capsys, monkeypatch, "--release", URL, "--dist", str(dist))
    assert code == 1
    assert "asset provenance.pub.pem: the bytes downloaded are not what GitHub's digest" in err


def test_verify_refuses_another_key_than_the_pinned_one(
    sealed: Sample,
    gh: AssetGitHub,
    published: dict[str, object],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dist = dist_of(sealed, tmp_path / "dist")
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    code, _, err = verify(
        gh, capsys, monkeypatch, "--release", URL, "--dist", str(dist), "--public-key", str(other)
    )
    assert code == 1
    assert "asset provenance.pub.pem is not the key given with --public-key" in err


def test_verify_refuses_a_changed_artifact(
    sealed: Sample,
    gh: AssetGitHub,
    published: dict[str, object],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dist = dist_of(sealed, tmp_path / "dist")
    wheel = next(dist.glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    code, _, err = verify(gh, capsys, monkeypatch, "--release", URL, "--dist", str(dist))
    assert code == 1
    assert f"{wheel.name}: sha256" in err


def test_verify_names_a_missing_release_or_asset(
    sealed: Sample,
    gh: AssetGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dist = dist_of(sealed, tmp_path / "dist")
    code, _, err = verify(gh, capsys, monkeypatch, "--release", URL, "--dist", str(dist))
    assert code == 1
    assert f"release {TAG} of octo-org/sample: no such release" in err

    rel = gh.add_release(TAG)
    gh.add_asset(rel, ATTESTATION, (sealed.release_dir / VERSION / ATTESTATION).read_bytes())
    code, _, err = verify(gh, capsys, monkeypatch, "--release", URL, "--dist", str(dist))
    assert code == 1
    assert f"has no {PUBLIC_KEY}, {SHA256SUMS} asset" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--release", URL], "which artifacts?"),
        (["d", "--dist", "d", "--release", URL], "give the artifacts once"),
        (["d"], "--provenance FILE and --public-key FILE, or --release"),
        (["d", "--release", URL, "--provenance", "p"], "--provenance comes from the release"),
        (["d", "--release", TAG], "is a tag: say whose with --repo"),
        (["d", "--release", "https://github.com/o/r/issues/1"], "is not a release URL"),
        (["d", "--release", "http://github.com/o/r/releases/tag/v1"], "is not a release URL"),
        (["d", "--release", URL, "--repo", "o/other"], "--release names octo-org/sample"),
    ],
)
def test_verify_usage_errors(
    gh: AssetGitHub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    code, _, err = verify(gh, capsys, monkeypatch, *args)
    assert code == 2
    assert message in err


def test_a_ghes_release_url_needs_its_api_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    url = "https://ghe.example/o/r/releases/tag/v1"
    code, _, err = run_cli(["release", "verify", str(tmp_path), "--release", url], capsys)
    assert code == 2
    assert "set GITHUB_API_URL to its API (https://ghe.example/api/v3)" in err


def test_no_token_is_fine_for_a_public_release(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without GITHUB_TOKEN the requests carry no Authorization (the local server, like a
    private repository, answers 401, which is the error shown)."""
    with AssetGitHub() as gh:
        monkeypatch.setenv("GITHUB_API_URL", gh.url)
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        monkeypatch.delenv("GH_TOKEN", raising=False)
        code, _, err = run_cli(["release", "verify", str(tmp_path), "--release", URL], capsys)
        assert code == 1
        assert "401" in err


def test_a_release_without_a_provenance_stage_attaches_nothing(
    sealed: Sample, gh: AssetGitHub
) -> None:
    gh.add_release(TAG)
    ctx = context(sealed, gh)
    del ctx.state.stages["provenance"]
    details = publish_provenance(ctx, RepoApi(client(gh), gh.repo))
    assert details == {"skipped": "no provenance stage in this release"}
    assert gh.calls == []
    assert gh.uploaded == []
