"""Post-release is one code path (section 4): `steward handle` on `release: published` and
the release pipeline's post-release stage run the same pending-release query (every state)
and one executor that knows the issues it read."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from steward.config.loader import parse_config
from steward.errors import GitHubError
from steward.github.client import GitHubClient
from steward.pipeline.context import Context
from steward.pipeline.stages import post_release as stage_module
from steward.pipeline.stages.post_release import PostReleaseStage
from steward.pipeline.state import ReleaseState, StageRecord
from steward.shell import executor
from tests.integration.conftest import Run, Steward
from tests.pipeline.github_releases import ReleaseGitHub
from tests.support.github_material import REPO, release_event
from tests.support.github_server import Fault

R = f"/repos/{REPO}"
PENDING = list(range(10, 30))  # 20 open issues waiting for the release
LINK = f"[v3.2.0](https://github.com/{REPO}/releases/tag/v3.2.0)"
Handle = Callable[..., Run]


@pytest.fixture
def gh() -> Iterator[ReleaseGitHub]:
    """The integration fixtures' server, with releases (the stage publishes the draft)."""
    with ReleaseGitHub(REPO) as server:
        yield server
        server.assert_clean()


def seed(gh: ReleaseGitHub) -> None:
    for n in PENDING:
        gh.add_issue(n, f"issue {n}", labels=("pending-release", "bug"))
    gh.add_issue(31, "closed at merge by Fixes #31", labels=("pending-release",), state="closed")
    gh.add_issue(32, "unrelated", labels=("bug",))
    gh.add_pr(33, "feat: a PR is not an issue", labels=("pending-release",))
    gh.add_draft("v3.2.0")


def run_stage(gh: ReleaseGitHub, tmp_path: Path) -> StageRecord:
    config = parse_config(f"release:\n  repository: {REPO}\n")
    ctx = Context(
        root=tmp_path,
        version="3.2.0",
        prerelease=False,
        config=config,
        state=ReleaseState("3.2.0"),
        dir=tmp_path,
        env={},
        echo=lambda _msg: None,
        github=lambda: GitHubClient(gh.token, gh.url, max_retries=0),
    )
    rec = StageRecord("post-release")
    PostReleaseStage().run(ctx, rec)
    return rec


def assert_announced(gh: ReleaseGitHub) -> None:
    for n in PENDING:
        assert gh.labels_of(n) == ["bug"]
        assert gh.issues[n].state == "closed"
        [body] = gh.comment_bodies(n)
        assert LINK in body
    [body31] = gh.comment_bodies(31)  # closed at merge: told and unlabelled too
    assert LINK in body31
    assert gh.labels_of(31) == []
    assert gh.comment_bodies(32) == []
    assert gh.labels_of(33) == ["pending-release"]


def test_the_stage_tells_issues_closed_at_merge_and_reads_no_issue_twice(
    gh: ReleaseGitHub, tmp_path: Path
):
    """Reproduction: the stage listed open issues only (#31 was never told) and read every
    issue and its comments again before writing (2 extra reads per issue)."""
    seed(gh)
    rec = run_stage(gh, tmp_path)

    assert_announced(gh)
    order = sorted([*PENDING, 31], reverse=True)  # GitHub lists newest first
    assert gh.reads() == [("GET", f"{R}/releases"), ("GET", f"{R}/issues")]
    assert gh.calls[1].short[0] == "PATCH"  # the draft published first
    assert gh.calls[2].query == {"per_page": "100", "state": "all", "labels": "pending-release"}
    # publish; per issue a comment and one PATCH (label off, closed); #31: comment, label
    assert len(gh.writes()) == 1 + 2 * len(PENDING) + 2
    assert "#31 comment [released:v3.2.0]" in rec.details["applied"]
    assert len(rec.details["applied"]) == len(order) * 2 + len(PENDING)

    gh.reset_calls()
    run_stage(gh, tmp_path)
    assert gh.writes() == []


def test_handle_and_the_stage_send_the_same_calls_for_the_issues(
    steward: Steward, gh: ReleaseGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The same seed through `steward handle` and through the stage: the calls on issues are
    the same list, from the same function."""
    taken: list[str] = []
    real = executor.handle_event

    def spy(event: Any, *args: Any, **kw: Any) -> executor.Handled:
        taken.append(event.name)
        return real(event, *args, **kw)

    monkeypatch.setattr(executor, "handle_event", spy)
    monkeypatch.setattr(stage_module, "handle_event", spy)

    seed(gh)
    payload = tmp_path / "release.json"
    payload.write_text(json.dumps(release_event("published", tag="v3.2.0")), encoding="utf-8")
    run = steward("handle", "--event-name", "release", "--payload", str(payload))
    assert run.code == 0, run.err
    assert_announced(gh)
    handle_calls = [c.short for c in gh.calls]

    with ReleaseGitHub(REPO) as by_stage:
        seed(by_stage)
        run_stage(by_stage, tmp_path)
        stage_calls = [c.short for c in by_stage.calls]
        assert_announced(by_stage)
        by_stage.assert_clean()

    assert taken == ["release", "release"]
    assert stage_calls[:2] == [("GET", f"{R}/releases"), ("PATCH", stage_calls[1][1])]
    assert stage_calls[2:] == handle_calls


def test_a_failed_announcement_is_retried_on_an_issue_closed_at_merge(
    gh: ReleaseGitHub, tmp_path: Path
):
    """Reproduction (found by the server's chaos run): on an issue already closed, the marker
    label came off before the comment was posted. When the comment failed, the retry's
    pending-release query no longer listed the issue, so it was never told of the release."""
    seed(gh)
    gh.faults.append(Fault(502, method="POST", path_contains="/issues/31/comments"))
    with pytest.raises(GitHubError):
        run_stage(gh, tmp_path)
    assert gh.labels_of(31) == ["pending-release"]  # still listed for the retry

    run_stage(gh, tmp_path)
    assert_announced(gh)
    [body31] = gh.comment_bodies(31)
    assert LINK in body31
