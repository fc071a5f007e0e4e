"""The GitHub-facing parts: post-release (drafted notes published, pending-release issues
closed through the executor) and the bump PR, against the local GitHub test server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.config.loader import load_config
from steward.config.model import StewardConfig
from steward.github.client import GitHubClient
from steward.pipeline.runner import RunOptions, run_release
from tests.pipeline.conftest import Index, Sample, git, make_sample
from tests.pipeline.github_releases import ReleaseGitHub


@pytest.fixture
def gh() -> Iterator[ReleaseGitHub]:
    with ReleaseGitHub() as server:
        yield server
    assert server.violations == []


def run(sample: Sample, gh: ReleaseGitHub, version: str, *, prerelease: bool = False) -> None:
    config = load_config(sample.root / ".github" / "steward.yml")
    run_release(
        sample.root,
        config,
        RunOptions(
            version=version,
            prerelease=prerelease,
            env=sample.env(),
            echo=lambda _msg: None,
            github=lambda: GitHubClient(gh.token, gh.url, max_retries=0),
        ),
    )


def test_post_release_publishes_the_draft_and_closes_pending_issues(
    tmp_path: Path, gh: ReleaseGitHub
) -> None:
    extra = "  stages: [post-release]\n  repository: octo-org/sample\n"
    sample = make_sample(tmp_path, None, extra=extra.replace("  stages: [post-release]\n", ""))
    cfg = sample.root / ".github" / "steward.yml"
    cfg.write_text(
        cfg.read_text().replace(
            "stages: [seal, quality, build, provenance, publish, tag]", "stages: [post-release]"
        )
    )
    draft = gh.add_draft("v2.0.0")
    gh.add_issue(7, "Bug fixed in this release", labels=("pending-release", "bug"))
    gh.add_issue(8, "Unrelated", labels=("feature-request",))

    run(sample, gh, "2.0.0")

    assert draft["draft"] is False
    assert draft["tag_name"] == "v2.0.0"
    assert gh.issues[7].state == "closed"
    assert gh.labels_of(7) == ["bug"]
    (comment,) = gh.comment_bodies(7)
    assert "[v2.0.0](https://github.com/octo-org/sample/releases/tag/v2.0.0)" in comment
    assert gh.issues[8].state == "open"
    assert gh.comment_bodies(8) == []

    gh.reset_calls()
    run(sample, gh, "2.0.0")  # a finished release: nothing is sent to GitHub
    assert gh.writes() == []


def test_bump_pr_is_opened_once_from_the_pushed_bump_branch(
    tmp_path: Path, gh: ReleaseGitHub
) -> None:
    extra = "  bump_pr: true\n  repository: octo-org/sample\n"
    sample = make_sample(tmp_path, None, extra=extra)
    cfg = sample.root / ".github" / "steward.yml"
    cfg.write_text(
        cfg.read_text().replace(
            "stages: [seal, quality, build, provenance, publish, tag]", "stages: [seal, tag]"
        )
    )
    git(sample.root, "commit", "-q", "-a", "-m", "chore: two stages")

    run(sample, gh, "0.3.0")

    branch_sha = git(sample.remote, "rev-parse", "refs/heads/steward/bump-0.3.0")
    assert git(sample.remote, "rev-parse", "v0.3.0^{commit}") == branch_sha
    (pr,) = gh.pulls
    assert pr["head"]["ref"] == "steward/bump-0.3.0"
    assert pr["base"]["ref"] == "develop"
    assert pr["title"] == "chore(version): bump version to 0.3.0"


def test_the_bump_pr_is_on_by_default_as_in_the_playbook(tmp_path: Path) -> None:
    """#19: the seed's release opens the version bump PR; steward's default did not."""
    assert StewardConfig.model_validate({}).release.bump_pr is True
    sample = make_sample(tmp_path, None)
    cfg = sample.root / ".github" / "steward.yml"
    cfg.write_text(cfg.read_text().replace("  bump_pr: false\n", ""))
    config = load_config(cfg)
    assert config.release.bump_pr is True
    lines: list[str] = []
    run_release(
        sample.root,
        config,
        RunOptions(version="0.3.0", env=sample.env(), echo=lines.append, dry_run=True),
    )
    output = "\n".join(lines)
    assert "push steward/bump-0.3.0 and open the bump PR to develop" in output
    assert "the bump PR need GITHUB_TOKEN" in output


def test_a_full_release_attaches_its_provenance_to_the_github_release_once(
    tmp_path: Path, pypi: Index
) -> None:
    """The seed's upload-release-provenance, as the post-release stage does it: the signed
    provenance, the key and SHA256SUMS on the release; a rerun sends nothing."""
    from tests.pipeline.release_assets_github import AssetGitHub

    extra = "  repository: octo-org/sample\n  bump_pr: false\n"
    sample = make_sample(
        tmp_path,
        pypi,
        extra=extra,
        stages="[seal, quality, build, provenance, publish, tag, post-release]",
    )
    with AssetGitHub() as gh:
        draft = gh.add_draft("v2.0.0")
        config = load_config(sample.root / ".github" / "steward.yml")
        options = RunOptions(
            version="2.0.0",
            env=sample.env(),
            echo=lambda _msg: None,
            github=lambda: GitHubClient(
                gh.token, gh.url, max_retries=0, uploads_url=gh.uploads_url
            ),
        )
        run_release(sample.root, config, options)
        assert sorted(gh.asset_bytes(draft)) == [
            "SHA256SUMS",
            "multiple.intoto.jsonl",
            "provenance.pub.pem",
            "steward-run.json",  # the run record (tests/pipeline/test_run_record.py)
        ]
        sealed = sample.release_dir / "2.0.0"
        assert (
            gh.asset_bytes(draft)["multiple.intoto.jsonl"]
            == (sealed / "multiple.intoto.jsonl").read_bytes()
        )
        sums = gh.asset_bytes(draft)["SHA256SUMS"].decode().splitlines()
        assert [line.split("  ")[1] for line in sums] == [
            "sample-2.0.0-py3-none-any.whl",
            "sample-2.0.0.tar.gz",
        ]
        uploads = len(gh.uploaded)
        run_release(sample.root, config, options)  # finished: nothing is sent again
        assert len(gh.uploaded) == uploads
    assert gh.violations == []
