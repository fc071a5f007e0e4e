"""Release assets through the adapter, against the local GitHub's three hosts (API, uploads,
storage), each request and answer checked against GitHub's OpenAPI description: an upload
goes only to the upload host the API named for the release and only when it is allowed, a
download's redirect to storage goes without the token, and the pipeline's upload is
idempotent by content, not by name."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from steward.errors import GitHubError, PayloadError, TamperedArtifactError
from steward.github import sansio
from steward.github.client import GitHubClient
from steward.github.records import GitHubRelease, release_from_api
from steward.github.repo_api import RepoApi
from steward.pipeline.release_assets import (
    parse_sha256sums,
    sha256sums,
    upload_release_assets,
)
from tests.pipeline.release_assets_github import AssetGitHub
from tests.support.raw_server import RawServer

FILES = {
    "multiple.intoto.jsonl": b'{"payloadType":"application/vnd.in-toto+json"}\n',
    "provenance.pub.pem": b"-----BEGIN PUBLIC KEY-----\nMCow\n-----END PUBLIC KEY-----\n",
    "SHA256SUMS": b"a" * 64 + b"  demo-1.0.0.tar.gz\n",
}


@pytest.fixture
def gh() -> Iterator[AssetGitHub]:
    with AssetGitHub() as server:
        yield server
    assert server.violations == []


def api_for(gh: AssetGitHub) -> RepoApi:
    client = GitHubClient(gh.token, gh.url, max_retries=0, uploads_url=gh.uploads_url)
    return RepoApi(client, gh.repo)


def files(tmp_path: Path, contents: dict[str, bytes] = FILES) -> list[Path]:
    out = []
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
        out.append(tmp_path / name)
    return out


def released(gh: AssetGitHub, tag: str = "v1.0.0") -> tuple[dict[str, object], GitHubRelease]:
    rel = gh.add_release(tag)
    return rel, release_from_api(rel)


def test_upload_then_a_second_run_uploads_nothing(gh: AssetGitHub, tmp_path: Path) -> None:
    rel, release = released(gh)
    api = api_for(gh)

    assets = upload_release_assets(api, release, files(tmp_path))

    assert [a.name for a in assets] == list(FILES)
    assert gh.asset_bytes(rel) == FILES
    assert all(a.sha256 == hashlib.sha256(FILES[a.name]).hexdigest() for a in assets)
    (_, headers), *_ = gh.uploaded
    assert headers["content-type"] == "application/octet-stream"
    assert headers["authorization"] == f"Bearer {gh.token}"

    gh.reset_calls()
    uploads = len(gh.uploaded)
    again = upload_release_assets(api, release, files(tmp_path))
    assert [a.id for a in again] == [a.id for a in assets]
    assert len(gh.uploaded) == uploads  # nothing sent to the uploads host
    assert gh.writes() == []
    assert gh.reads() == [("GET", f"/repos/{gh.repo}/releases/{rel['id']}/assets")]


def test_without_digests_the_bytes_are_compared(gh: AssetGitHub, tmp_path: Path) -> None:
    """Assets uploaded before GitHub computed digests (``digest: null``): the same size is
    downloaded and compared, so an equal asset is kept and uploads nothing."""
    rel, release = released(gh)
    for name, data in FILES.items():
        gh.add_asset(rel, name, data)
    gh.digests = False
    upload_release_assets(api_for(gh), release, files(tmp_path))
    assert gh.uploaded == []
    assert len(gh.storage.seen) == len(FILES)


def test_other_content_under_the_same_name_is_refused(gh: AssetGitHub, tmp_path: Path) -> None:
    rel, release = released(gh)
    gh.add_asset(rel, "SHA256SUMS", b"b" * 64 + b"  demo-1.0.0.tar.gz\n")
    with pytest.raises(TamperedArtifactError, match="asset SHA256SUMS is already there"):
        upload_release_assets(api_for(gh), release, files(tmp_path))
    assert gh.uploaded == []  # checked before the first upload: the release is as it was
    assert [a["name"] for a in gh.assets[rel["id"]]] == ["SHA256SUMS"]


def test_other_content_is_refused_without_digests_too(gh: AssetGitHub, tmp_path: Path) -> None:
    rel, release = released(gh)
    gh.add_asset(rel, "SHA256SUMS", b"b" * 64 + b"  demo-1.0.0.tar.gz\n")  # same size
    gh.digests = False
    with pytest.raises(TamperedArtifactError, match="refusing to replace it"):
        upload_release_assets(api_for(gh), release, files(tmp_path))
    assert gh.uploaded == []


def test_a_name_taken_meanwhile_is_githubs_422(gh: AssetGitHub, tmp_path: Path) -> None:
    """GitHub refuses a second asset of one name; the adapter says so, it never replaces."""
    rel, release = released(gh)
    api = api_for(gh)
    api.upload_release_asset(release, "SHA256SUMS", b"one", "application/octet-stream")
    with pytest.raises(GitHubError, match="422"):
        api.upload_release_asset(release, "SHA256SUMS", b"two", "application/octet-stream")
    assert gh.asset_bytes(rel) == {"SHA256SUMS": b"one"}


def test_the_token_never_reaches_an_upload_host_not_allowed(
    gh: AssetGitHub, tmp_path: Path
) -> None:
    rel, _ = released(gh)
    with RawServer() as elsewhere:
        for upload_url in (
            f"{elsewhere.url}/repos/{gh.repo}/releases/{rel['id']}/assets{{?name,label}}",
            f"https://evil.example/repos/{gh.repo}/releases/{rel['id']}/assets{{?name,label}}",
            f"https://uploads.github.com.evil.example/repos/{gh.repo}/releases/{rel['id']}/assets",
        ):
            rel["upload_url"] = upload_url
            release = release_from_api(rel)
            with pytest.raises(GitHubError, match="not an allowed upload host"):
                upload_release_assets(api_for(gh), release, files(tmp_path))
        assert elsewhere.seen == []
    assert gh.uploaded == []


def test_the_api_origin_is_no_upload_host_either(gh: AssetGitHub, tmp_path: Path) -> None:
    """The API's own origin is not on the upload allowlist: an upload goes only to an
    uploads host, wherever a release's upload_url says."""
    rel, _ = released(gh)
    rel["upload_url"] = f"{gh.url}/repos/{gh.repo}/releases/{rel['id']}/assets{{?name,label}}"
    with pytest.raises(GitHubError, match="not an allowed upload host"):
        upload_release_assets(api_for(gh), release_from_api(rel), files(tmp_path))
    assert gh.writes() == []


def test_an_upload_url_of_another_release_or_shape_is_refused(
    gh: AssetGitHub, tmp_path: Path
) -> None:
    rel, _ = released(gh)
    api = api_for(gh)
    for upload_url, error in (
        (f"{gh.uploads_url}/repos/{gh.repo}/releases/999/assets{{?name,label}}", PayloadError),
        (f"{gh.uploads_url}/repos/other/repo/releases/{rel['id']}/assets", PayloadError),
        (f"{gh.uploads_url}/repos/{gh.repo}/releases/{rel['id']}/assets{{/x}}", PayloadError),
        (f"{gh.uploads_url}/repos/{gh.repo}/releases/{rel['id']}/assets?x=1", PayloadError),
    ):
        rel["upload_url"] = upload_url
        with pytest.raises(error):
            upload_release_assets(api, release_from_api(rel), files(tmp_path))
    assert gh.uploaded == []


def test_a_download_follows_the_redirect_without_the_token(gh: AssetGitHub) -> None:
    rel, _ = released(gh)
    gh.add_asset(rel, "SHA256SUMS", b"sums\n")
    api = api_for(gh)
    (asset,) = api.release_assets(int(rel["id"]))

    assert api.download_release_asset(asset, max_bytes=1024) == b"sums\n"

    (seen,) = gh.storage.seen
    assert seen.target.startswith(f"/objects/{asset.id}?")
    assert "authorization" not in seen.headers
    assert gh.token not in str(seen.headers)
    with pytest.raises(GitHubError, match="over the limit"):
        api.download_release_asset(asset, max_bytes=3)


def test_a_download_is_never_downgraded_to_http() -> None:
    """A redirect from https to http (or anything but http/https) is refused."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.github.com":
            return httpx.Response(302, headers={"location": "http://objects.example/o/1"})
        return httpx.Response(200, content=b"x")

    client = GitHubClient("ghp_" + "x" * 36, transport=httpx.MockTransport(answer))
    api = RepoApi(client, "octo-org/sample")
    from steward.github.records import ReleaseAsset

    with pytest.raises(GitHubError, match="refusing a redirect to a http URL"):
        api.download_release_asset(ReleaseAsset(1, "a", 1, "uploaded"), max_bytes=10)
    assert [r.url.host for r in seen] == ["api.github.com"]


def test_a_download_redirect_to_https_storage_carries_no_token() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.github.com":
            assert request.headers["accept"] == "application/octet-stream"
            return httpx.Response(
                302, headers={"location": "https://release-assets.githubusercontent.com/o?s=1"}
            )
        return httpx.Response(200, content=b"bytes")

    client = GitHubClient("ghp_" + "x" * 36, transport=httpx.MockTransport(answer))
    api = RepoApi(client, "octo-org/sample")
    from steward.github.records import ReleaseAsset

    assert api.download_release_asset(ReleaseAsset(7, "a", 5, "uploaded"), max_bytes=10) == (
        b"bytes"
    )
    api_req, storage_req = seen
    assert api_req.url.path == "/repos/octo-org/sample/releases/assets/7"
    assert "authorization" in api_req.headers
    assert "authorization" not in storage_req.headers


@pytest.mark.parametrize(
    ("api", "url", "allowed"),
    [
        ("https://api.github.com", "https://uploads.github.com/repos/o/r/releases/1/assets", True),
        ("https://api.github.com", "http://uploads.github.com/repos/o/r/releases/1/assets", False),
        ("https://api.github.com", "https://uploads.github.com:8443/repos/o/r", False),
        ("https://api.github.com", "https://api.github.com/repos/o/r/releases/1/assets", False),
        ("https://api.github.com", "https://user:pw@uploads.github.com/repos/o/r", False),
        ("https://ghe.example/api/v3", "https://ghe.example/api/uploads/repos/o/r", True),
        ("https://ghe.example/api/v3", "https://ghe.example/api/uploadsX/repos/o/r", False),
        ("https://ghe.example/api/v3", "https://ghe.example/api/v3/repos/o/r", False),
        ("https://ghe.example/api/v3", "https://uploads.github.com/repos/o/r", False),
    ],
)
def test_the_upload_allowlist(api: str, url: str, allowed: bool) -> None:
    assert sansio.upload_allowed(url, sansio.upload_bases(api)) is allowed


def test_sha256sums_is_sha256sums_format() -> None:
    text = sha256sums({"b.whl": "1" * 64, "a.tar.gz": "2" * 64})
    assert text == f"{'2' * 64}  a.tar.gz\n{'1' * 64}  b.whl\n"
    assert parse_sha256sums(text, "x") == {"a.tar.gz": "2" * 64, "b.whl": "1" * 64}
    assert parse_sha256sums(f"{'3' * 64} *c.zip\n", "x") == {"c.zip": "3" * 64}
    for bad in ("", "nope\n", f"{'g' * 64}  a\n", f"{'1' * 64}  a\n{'2' * 64}  a\n"):
        with pytest.raises(TamperedArtifactError):
            parse_sha256sums(bad, "SHA256SUMS")
