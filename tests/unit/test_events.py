"""Parsing webhook payloads into domain events: real payloads in, our errors for bad ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steward.domain.events import (
    Ignored,
    IssueEvent,
    MergeGroupEvent,
    PullRequestEvent,
    ReleaseEvent,
    load_payload,
    parse_event,
    pull_request_from,
    queued_pull,
)
from steward.errors import InputError, PayloadError
from steward.text import MAX_BODY, MAX_TITLE
from tests.support import openapi
from tests.support.github_material import examples
from tests.support.merge_queue import EXAMPLE_PR, GROUP_SHA, merge_group_payload
from tests.unit._payloads import example, issue_payload, pr_payload, release_payload


def test_pull_request_fields_from_a_real_payload() -> None:
    ev = parse_event("pull_request", pr_payload("opened"))
    assert isinstance(ev, PullRequestEvent)
    pr = ev.pull_request
    assert (ev.action, ev.repo.full_name, ev.repo.owner, ev.repo.name) == (
        "opened",
        "Codertocat/Hello-World",
        "Codertocat",
        "Hello-World",
    )
    assert (pr.number, pr.title, pr.labels, pr.author.login, pr.author.is_bot) == (
        2,
        "Update the README with new information.",
        ("bug",),
        "Codertocat",
        False,
    )
    assert pr.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert (pr.state, pr.merged, pr.author_association, pr.base_ref) == (
        "open",
        False,
        "OWNER",
        "master",
    )
    assert (pr.additions, pr.deletions, pr.changed_files) == (1, 1, 1)


def test_pull_request_target_is_a_pull_request_event() -> None:
    assert isinstance(parse_event("pull_request_target", pr_payload("opened")), PullRequestEvent)


def test_edited_title_carries_the_previous_title() -> None:
    ev = parse_event("pull_request", pr_payload("edited", title="feat: b", previous_title="fix: a"))
    assert isinstance(ev, PullRequestEvent)
    assert (ev.pull_request.title, ev.previous_title) == ("feat: b", "fix: a")
    body_only = parse_event("pull_request", pr_payload("edited", body="new body"))
    assert isinstance(body_only, PullRequestEvent)
    assert body_only.previous_title is None


def test_labeled_carries_the_label_and_merged_close_is_merged() -> None:
    ev = parse_event("pull_request", pr_payload("labeled", label="size/XXL"))
    assert isinstance(ev, PullRequestEvent)
    assert ev.label == "size/XXL"
    closed = parse_event("pull_request", pr_payload("closed", merged=True))
    assert isinstance(closed, PullRequestEvent)
    assert closed.pull_request.merged
    unmerged = parse_event("pull_request", pr_payload("closed"))
    assert isinstance(unmerged, PullRequestEvent)
    assert not unmerged.pull_request.merged


def test_issue_and_release_fields() -> None:
    ev = parse_event("issues", issue_payload("opened"))
    assert isinstance(ev, IssueEvent)
    assert (ev.issue.number, ev.issue.title, ev.issue.labels) == (
        1,
        "Spelling error in the README file",
        ("bug",),
    )
    assert ev.issue.updated_at == datetime(2019, 5, 15, 15, 20, 18, tzinfo=UTC)
    rel = parse_event("release", release_payload(tag="v2.0.0"))
    assert isinstance(rel, ReleaseEvent)
    assert (rel.release.tag, rel.release.prerelease, rel.release.draft) == ("v2.0.0", False, False)
    assert rel.release.html_url.endswith("/releases/tag/v2.0.0")


def test_bot_authors_are_marked() -> None:
    p = pr_payload("opened", login="dependabot[bot]")
    ev = parse_event("pull_request", p)
    assert isinstance(ev, PullRequestEvent)
    assert ev.pull_request.author.is_bot


def test_issue_event_on_a_pull_request_is_ignored() -> None:
    p = issue_payload("opened")
    p["issue"]["pull_request"] = {
        "url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"
    }
    parsed = parse_event("issues", p)
    assert isinstance(parsed, Ignored)
    assert "pull request" in parsed.reason


def test_unknown_event_and_actions_are_ignored_not_errors() -> None:
    for name, payload in [("push", {}), ("ping", {"zen": "x"}), ("issues", {"action": 3})]:
        parsed = parse_event(name, payload)
        assert isinstance(parsed, Ignored)
        assert "\n" not in parsed.reason


def test_untrusted_text_is_capped() -> None:
    ev = parse_event(
        "pull_request", pr_payload("opened", title="t" * 5000, body="b" * (MAX_BODY + 10))
    )
    assert isinstance(ev, PullRequestEvent)
    assert len(ev.pull_request.title) == MAX_TITLE
    assert len(ev.pull_request.body) == MAX_BODY


def test_null_body_is_empty() -> None:
    p = pr_payload("opened")
    p["pull_request"]["body"] = None
    ev = parse_event("pull_request", p)
    assert isinstance(ev, PullRequestEvent)
    assert ev.pull_request.body == ""


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.pop("pull_request"), "payload.pull_request is missing"),
        (lambda p: p["pull_request"].update(number="2"), "pull_request.number"),
        (lambda p: p["pull_request"].update(number=True), "pull_request.number"),
        (lambda p: p["pull_request"].update(title=None), "pull_request.title"),
        (lambda p: p["pull_request"].update(labels={}), "pull_request.labels"),
        (lambda p: p["pull_request"].update(labels=[{"id": 1}]), r"pull_request.labels\[0\].name"),
        (lambda p: p["pull_request"].update(user=None), "pull_request.user"),
        (lambda p: p["repository"].pop("full_name"), "repository.full_name"),
        (lambda p: p.pop("sender"), "payload.sender"),
    ],
)
def test_malformed_pull_request_payloads_name_the_field(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    p = example("pull_request", "opened")
    mutate(p)
    with pytest.raises(PayloadError, match=message):
        parse_event("pull_request", p)


@pytest.mark.parametrize("value", ["yesterday", 5, "2019-13-45T00:00:00Z", "9" * 100])
def test_bad_updated_at_is_a_payload_error(value: object) -> None:
    p = example("issues", "opened")
    p["issue"]["updated_at"] = value
    with pytest.raises(PayloadError, match=r"issue\.updated_at"):
        parse_event("issues", p)


def test_release_without_tag_is_a_payload_error() -> None:
    p = example("release", "published")
    p["release"]["tag_name"] = None
    with pytest.raises(PayloadError, match=r"release\.tag_name"):
        parse_event("release", p)


def test_load_payload(tmp_path: Path) -> None:
    good = tmp_path / "event.json"
    good.write_text(json.dumps(pr_payload("opened")))
    assert load_payload(good)["action"] == "opened"

    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "action": "opened",\n  oops\n}')
    with pytest.raises(InputError, match=r"broken.json:3:3: payload is not valid JSON"):
        load_payload(broken)

    array = tmp_path / "array.json"
    array.write_text("[]")
    with pytest.raises(PayloadError, match="JSON object"):
        load_payload(array)

    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(InputError, match="UTF-8"):
        load_payload(latin)

    huge = tmp_path / "huge.json"
    with huge.open("wb") as fh:
        fh.truncate(26 * 1024 * 1024)  # sparse: no real 26 MB written
    with pytest.raises(InputError, match="payload is over the limit of 25 MiB"):
        load_payload(huge)

    with pytest.raises(InputError, match="cannot read"):
        load_payload(tmp_path / "missing.json")

    # a device (or a FIFO) is never read: it could be endless, or block
    with pytest.raises(InputError, match="payload is a character device, not a regular file"):
        load_payload(Path("/dev/zero"))

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested deeper"):
        load_payload(deep)


# -- names from payloads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "Codertocat/..",
        "Codertocat/.",
        "a/b/c",
        "/r",
        "o/",
        "o/r%2F",
        "o/r?x",
        "-o/r",
        "o/r x",
        "",
    ],
)
def test_a_repository_name_outside_githubs_rules_is_a_payload_error(name: str) -> None:
    p = pr_payload("opened")
    p["repository"]["full_name"] = name
    with pytest.raises(PayloadError, match=r"repository\.full_name must be OWNER/NAME"):
        parse_event("pull_request", p)


@pytest.mark.parametrize(
    "name", ["Codertocat/Hello-World", "octo-org/.github", "a_emu/x.y_z-1", "O/R"]
)
def test_names_github_allows_are_accepted(name: str) -> None:
    p = pr_payload("opened")
    p["repository"]["full_name"] = name
    ev = parse_event("pull_request", p)
    assert isinstance(ev, PullRequestEvent)
    assert ev.repo.full_name == name


def test_negative_counts_in_a_pull_request_are_zero(caplog: pytest.LogCaptureFixture) -> None:
    p = pr_payload("opened")
    p["pull_request"].update(additions=-3, deletions=-1, changed_files=-2)
    ev = parse_event("pull_request", p)
    assert isinstance(ev, PullRequestEvent)
    pr = ev.pull_request
    assert (pr.additions, pr.deletions, pr.changed_files) == (0, 0, 0)
    assert "pull_request.additions is -3; counted as 0" in caplog.text


# -- REST issues: what the OpenAPI description allows beyond the webhooks ---------------------


def _rest_issue(**changes: object) -> dict[str, object]:
    from tests.support import openapi

    obj = openapi.example("issue")
    obj.update(changes)
    return obj


def test_rest_issue_of_a_deleted_account_is_ghost() -> None:
    from steward.domain.events import issue_from_api

    issue = issue_from_api(_rest_issue(user=None))
    assert issue.author.login == "ghost"


def test_rest_labels_as_strings_or_without_names(caplog: pytest.LogCaptureFixture) -> None:
    from steward.domain.events import issue_from_api

    issue = issue_from_api(
        _rest_issue(number=7, labels=["bug", {"id": 1}, {"name": "help wanted"}, "bug", 3])
    )
    assert issue.labels == ("bug", "help wanted")
    assert "issue #7.labels[1] has no name; ignored" in caplog.text
    assert "issue #7.labels[4] has no name; ignored" in caplog.text


def test_rest_odd_timestamps_and_counts_are_unknown(caplog: pytest.LogCaptureFixture) -> None:
    from steward.domain.events import issue_from_api

    issue = issue_from_api(_rest_issue(number=7, updated_at="1990-12-31T23:59:60Z", comments=-1))
    assert issue.updated_at is None
    assert issue.comments is None  # unknown: the executor lists the comments
    assert "issue #7.updated_at is not a timestamp" in caplog.text


@pytest.mark.parametrize(
    ("obj", "message"),
    [([], "issue is not an object"), ({"title": "x"}, r"issue\.number"), ({"number": 1}, "title")],
)
def test_rest_issue_without_what_github_requires_is_a_payload_error(
    obj: object, message: str
) -> None:
    from steward.domain.events import issue_from_api

    with pytest.raises(PayloadError, match=message):
        issue_from_api(obj)


# ---- merge_group ----


def test_the_real_merge_group_example_names_its_pull_request() -> None:
    payload = examples("merge_group", "checks_requested")[-1]
    ev = parse_event("merge_group", payload)
    assert isinstance(ev, MergeGroupEvent)
    assert ev.head_sha == GROUP_SHA
    assert ev.pull_number == EXAMPLE_PR
    assert ev.base_ref == "refs/heads/main"
    assert ev.repo.full_name == "octo-org/octo-repo"


@pytest.mark.parametrize(
    ("ref", "number"),
    [
        (
            "refs/heads/gh-readonly-queue/release/v2/pr-7-929f8209d40f77f4abc622a499c93a83babdbe64",
            7,
        ),
        ("refs/heads/gh-readonly-queue/main/pr-0-929f8209d40f77f4abc622a499c93a83babdbe64", None),
        ("refs/heads/main", None),
        ("refs/heads/gh-readonly-queue/main/pr-x-929f8209", None),
        ("refs/heads/gh-readonly-queue/" + "a" * 5000 + "/pr-7-929f8209", None),
    ],
)
def test_the_queued_pull_request_comes_from_the_head_ref(ref: str, number: int | None) -> None:
    assert queued_pull(ref) == number
    ev = parse_event("merge_group", merge_group_payload(head_ref=ref))
    assert isinstance(ev, MergeGroupEvent)
    assert ev.pull_number == number


def test_a_merge_group_head_sha_that_is_no_sha_is_a_payload_error() -> None:
    payload = merge_group_payload()
    payload["merge_group"]["head_sha"] = "../../evil"
    with pytest.raises(PayloadError, match=r"merge_group\.head_sha"):
        parse_event("merge_group", payload)


def test_other_merge_group_actions_are_ignored() -> None:
    payload = merge_group_payload()
    payload["action"] = "destroyed"
    assert isinstance(parse_event("merge_group", payload), Ignored)


def test_issue_created_at_is_read_from_the_payload() -> None:
    ev = parse_event("issues", examples("issues", "opened")[-1])
    assert isinstance(ev, IssueEvent)
    assert ev.issue.created_at is not None
    assert ev.issue.created_at.tzinfo is not None


def test_pull_request_from_reads_the_rest_shape() -> None:
    obj = openapi.example("pull-request")
    pr = pull_request_from(obj)
    assert (pr.number, pr.head_sha, pr.labels) == (1347, obj["head"]["sha"], ("bug",))
    with pytest.raises(PayloadError, match="not an object"):
        pull_request_from([obj])
