"""GitHub's published material as the tests use it: examples, schemas, derived variants."""

from __future__ import annotations

import pytest

from steward.domain.events import IssueEvent, PullRequestEvent, ReleaseEvent, parse_event
from tests.support import github_material as m
from tests.support import openapi

HANDLED = {
    "pull_request": ["opened", "reopened", "synchronize", "labeled", "unlabeled", "closed"],
    "issues": ["opened", "labeled"],
    "release": ["published"],
}


@pytest.mark.parametrize(("event", "action"), [(e, a) for e, acts in HANDLED.items() for a in acts])
def test_real_examples_validate_and_parse(event: str, action: str):
    found = m.valid_examples(event, action)
    assert found, f"no schema-valid {event}/{action} example"
    for payload in found:
        parsed = parse_event(event, payload)
        assert isinstance(parsed, PullRequestEvent | IssueEvent | ReleaseEvent)
        assert parsed.action == action


DERIVED = {
    "merged PR": lambda: m.pull_request_event("closed", merged=True, body="Fixes #1"),
    "edited PR title": lambda: m.pull_request_event(
        "edited", title="fix(logger): x", title_from="feat(logger): x"
    ),
    "closed issue": lambda: m.issue_event("closed"),
    "conventional title": lambda: m.pull_request_event("opened", title="feat(logger)!: add x"),
    "labeled size/XXL": lambda: m.pull_request_event(
        "labeled", labels=("size/XXL",), label="size/XXL"
    ),
    "first-time contributor": lambda: m.pull_request_event(
        "opened", association="FIRST_TIME_CONTRIBUTOR", author="newcomer"
    ),
    "bot author": lambda: m.pull_request_event(
        "opened", author="dependabot[bot]", author_kind="Bot"
    ),
}


@pytest.mark.parametrize("name", list(DERIVED))
def test_each_derived_variant_matches_the_official_schema(name: str):
    payload = DERIVED[name]()
    event = "issues" if "issue" in payload else "pull_request"
    m.validate_webhook(event, payload)  # the builders validate too; checked here explicitly
    parsed = parse_event(event, payload)
    assert not hasattr(parsed, "reason")


def test_derived_variants_carry_what_the_examples_lack():
    merged = parse_event("pull_request", m.pull_request_event("closed", merged=True))
    assert isinstance(merged, PullRequestEvent)
    assert merged.pull_request.merged
    edited = parse_event(
        "pull_request", m.pull_request_event("edited", title="fix: b", title_from="feat: a")
    )
    assert isinstance(edited, PullRequestEvent)
    assert (edited.pull_request.title, edited.previous_title) == ("fix: b", "feat: a")
    closed = parse_event("issues", m.issue_event("closed"))
    assert isinstance(closed, IssueEvent)
    assert closed.issue.state == "closed"


def test_a_wrong_shape_is_rejected():
    payload = m.pull_request_event("opened")
    payload["pull_request"]["merged"] = "yes"
    with pytest.raises(m.PayloadSchemaError, match="pull_request/merged"):
        m.validate_webhook("pull_request", payload)


def test_openapi_nullable_enum_quirk_is_patched():
    assert openapi.load_spec()["x-steward-patched-nullable-enums"] == 71
    assert openapi.patch_nullable_enums({"nullable": True, "enum": ["a"]}) == 1
