"""The server runs what `steward handle` runs: the same GitHub state, the same writes, for
each kind of event the policies handle; and a delivery run twice writes nothing the second
time (a worker that died after its writes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from steward.cli.main import main
from steward.errors import PayloadError
from steward.server.processing import Delivery, WorkerDeps, process_delivery, process_sweep
from tests.server.conftest import TOKEN, with_installation
from tests.server.fakes import BOT, token_deps
from tests.support.github_material import issue_event, pull_request_event, release_event
from tests.support.github_server import GitHubServer
from tests.support.merge_queue import merge_group_payload

SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


@dataclass(frozen=True)
class Case:
    event: str
    payload: Callable[[], dict[str, Any]]
    seed: Callable[[GitHubServer], None]


def _first_timer_pr(gh: GitHubServer) -> None:
    gh.add_pr(2, "docs: fix a typo", files=[("README.md", 3, 1)], author="newcomer")


def _two_prs(gh: GitHubServer) -> None:
    gh.add_pr(2, "fix(logger): keep the rate", labels=("feature", "size/M"))


def _merged(gh: GitHubServer) -> None:
    gh.add_issue(1, "Logger drops the sampling rate", labels=("bug",))
    gh.add_pr(2, "fix(logger): keep the sampling rate", labels=("bug",), state="closed")


def _pending(gh: GitHubServer) -> None:
    for n in range(10, 15):
        gh.add_issue(n, f"issue {n}", labels=("pending-release", "bug"))
    gh.add_issue(31, "already closed", labels=("pending-release",), state="closed")


def _issue(gh: GitHubServer) -> None:
    gh.add_issue(1, "Logger drops the sampling rate")


def _queued(gh: GitHubServer) -> None:
    gh.add_pr(2, "fix: keep the sampling rate", labels=("bug", "do-not-merge"))


CASES = {
    "pr-opened-first-timer": Case(
        "pull_request",
        lambda: pull_request_event(
            "opened",
            title="docs: fix a typo",
            body="",
            head_sha=SHA,
            author="newcomer",
            association="FIRST_TIME_CONTRIBUTOR",
        ),
        _first_timer_pr,
    ),
    "pr-title-edited": Case(
        "pull_request",
        lambda: pull_request_event(
            "edited",
            title="fix(logger): keep the rate",
            title_from="feat(logger): keep the rate",
            labels=("feature", "size/M"),
            head_sha=SHA,
        ),
        _two_prs,
    ),
    "pr-labeled-xxl": Case(
        "pull_request",
        lambda: pull_request_event("labeled", labels=("size/XXL",), label="size/XXL"),
        lambda gh: gh.add_pr(2, "feat: big", labels=("size/XXL",)),
    ),
    "pr-merged": Case(
        "pull_request",
        lambda: pull_request_event(
            "closed", merged=True, title="fix(logger): keep it", body="Fixes #1", labels=("bug",)
        ),
        _merged,
    ),
    "issue-opened-first-timer": Case(
        "issues", lambda: issue_event("opened", association="FIRST_TIME_CONTRIBUTOR"), _issue
    ),
    "issue-closed": Case("issues", lambda: issue_event("closed"), _issue),
    "release-published": Case("release", lambda: release_event("published"), _pending),
    "merge-group": Case("merge_group", lambda: merge_group_payload(2), _queued),
}


@pytest.fixture
def pair() -> Iterator[tuple[GitHubServer, GitHubServer]]:
    with (
        GitHubServer(token=TOKEN, login=BOT) as cli_side,
        GitHubServer(token=TOKEN, login=BOT) as server_side,
    ):
        yield cli_side, server_side
        cli_side.assert_clean()
        server_side.assert_clean()


def state(gh: GitHubServer) -> dict[str, Any]:
    return {
        "issues": {
            n: (sorted(r.labels), r.state, r.state_reason, [c["body"] for c in r.comments])
            for n, r in gh.issues.items()
        },
        "statuses": {
            sha: [(s["context"], s["state"], s["description"]) for s in v]
            for sha, v in gh.statuses.items()
        },
    }


def writes(gh: GitHubServer) -> list[tuple[str, str, Any]]:
    return [(c.method, c.path, c.body) for c in gh.calls if c.is_write]


def run_cli(
    gh: GitHubServer, event: str, payload: dict[str, Any], tmp: Any, mp: pytest.MonkeyPatch
) -> None:
    import json

    for var in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GH_TOKEN"):
        mp.delenv(var, raising=False)
    mp.setenv("GITHUB_API_URL", gh.url)
    mp.setenv("GITHUB_TOKEN", TOKEN)
    mp.chdir(tmp)
    path = tmp / "event.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(SystemExit) as info:
        main(["handle", "--event-name", event, "--payload", str(path)])
    assert info.value.code == 0


def delivery(event: str, payload: dict[str, Any], guid: str = "d-1") -> Delivery:
    return Delivery(
        delivery_id=guid,
        hook_id="42",
        event=event,
        payload=with_installation(payload),
        installation_id=7,
        received_at=datetime.now(UTC),
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_server_does_what_steward_handle_does(
    name: str,
    pair: tuple[GitHubServer, GitHubServer],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = CASES[name]
    cli_side, server_side = pair
    case.seed(cli_side)
    case.seed(server_side)
    run_cli(cli_side, case.event, case.payload(), tmp_path, monkeypatch)
    deps = token_deps(server_side.url, TOKEN, repos=(server_side.repo,))
    process_delivery(delivery(case.event, case.payload()), deps)

    assert writes(server_side) == writes(cli_side)
    assert writes(server_side), "the case should write something"
    assert state(server_side) == state(cli_side)

    server_side.reset_calls()  # the same delivery again (a retry): nothing is written twice
    process_delivery(delivery(case.event, case.payload()), deps)
    assert writes(server_side) == []


def test_the_apps_own_events_cost_no_call(gh: GitHubServer, deps: WorkerDeps) -> None:
    gh.add_pr(2, "feat: x")
    payload = pull_request_event("opened", head_sha=SHA, author=BOT, author_kind="Bot")
    payload["sender"] = {**payload["sender"], "login": BOT, "type": "Bot"}
    process_delivery(delivery("pull_request", payload), deps)
    assert gh.calls == []


def test_unhandled_events_and_ignored_authors_cost_no_call(
    gh: GitHubServer, deps: WorkerDeps
) -> None:
    star = {"action": "created", "repository": {"full_name": gh.repo}}
    process_delivery(delivery("star", star), deps)
    bot_pr = pull_request_event("opened", author="dependabot[bot]", author_kind="Bot")
    process_delivery(delivery("pull_request", bot_pr), deps)
    assert gh.calls == []


def test_a_malformed_payload_is_a_payload_error(deps: WorkerDeps) -> None:
    payload = pull_request_event("opened")
    del payload["repository"]
    with pytest.raises(PayloadError):
        process_delivery(delivery("pull_request", payload), deps)


def test_a_push_touching_the_config_tells_the_config_cache(gh: GitHubServer) -> None:
    told: list[tuple[int, str]] = []
    base = token_deps(gh.url, TOKEN)
    deps = WorkerDeps(
        github_for=base.github_for,
        config_for=base.config_for,
        bot_login=BOT,
        on_push=lambda inst, payload: told.append((inst, payload["ref"])) is None,
    )
    push = {"ref": "refs/heads/main", "repository": {"full_name": gh.repo}}
    process_delivery(delivery("push", push), deps)
    assert told == [(7, "refs/heads/main")]
    assert gh.calls == []


def test_the_sweep_does_what_steward_sweep_does(
    pair: tuple[GitHubServer, GitHubServer], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_side, server_side = pair
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    old = (now - timedelta(days=70)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for gh in pair:
        gh.add_issue(5, "idle for long")
        gh.issues[5].updated_at = old
        gh.add_issue(6, "exempt", labels=("help wanted",))
        gh.issues[6].updated_at = old
        gh.add_issue(7, "fresh")
    for var in ("GITHUB_REPOSITORY", "GH_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GITHUB_API_URL", cli_side.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["sweep", "--repo", cli_side.repo, "--now", now.isoformat()])
    assert info.value.code == 0

    deps = token_deps(server_side.url, TOKEN, repos=(server_side.repo,))
    process_sweep(7, deps, now)

    assert writes(server_side) == writes(cli_side)
    assert "stale" in server_side.labels_of(5)
    assert state(server_side)["issues"] == state(cli_side)["issues"]
