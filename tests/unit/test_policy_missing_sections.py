"""Related issue and acknowledgement sections of a new PR's description (two policies that
share the block label, run together as the engine runs them)."""

from __future__ import annotations

import pytest

from steward.config.loader import parse_config
from steward.domain.models import Snapshot
from steward.engine import decide
from steward.plan import Plan
from steward.policies import acknowledgement, related_issue
from steward.policies.common import related_issues, strip_html_comments
from steward.policies.context import Context
from tests.unit._payloads import added, comments, context, pr_event, removed

REPO = "Codertocat/Hello-World"  # the examples' repository
ACK = (
    "## Acknowledgment\n\nBy submitting this pull request, I confirm that you can use, modify, "
    "copy, and redistribute this contribution, under the terms of your choice.\n"
)


def template(issue_line: str) -> str:
    """The shape of the Powertools PR template, with its hints as HTML comments."""
    return (
        f"**Issue number:** {issue_line}\n\n"
        "## Summary\n\n### Changes\n\n"
        "<!-- Please provide a summary of what's being changed. Fixes #999 -->\n\n"
        "### User experience\n\n## Checklist\n\n"
        "### Is this a breaking change?\n\n**RFC issue number**: #77\n\n" + ACK
    )


def both(ctx: Context) -> Plan:
    return Plan.merge([related_issue.evaluate(ctx), acknowledgement.evaluate(ctx)])


def run(body: str, action: str = "opened", labels: tuple[str, ...] = (), cfg=None):  # type: ignore[no-untyped-def]
    ev = pr_event(action, body=body, labels=labels)
    return both(context(ev, config=cfg))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (template("#12"), (12,)),
        (template("12"), (12,)),
        (template(f"{REPO}#12"), (12,)),
        (template(f"https://github.com/{REPO}/issues/12"), (12,)),
        (template(""), ()),
        ("### Issue number: #8\n", (8,)),
        ("- Issue number: 8 and 9\n", (8,)),  # a bare number only at the field's start
        ("**RFC issue number**: #77", ()),  # another template field
        ("Fixes #12", (12,)),
        ("fixed #12 and closes #13", (12, 13)),
        ("This resolves: #5", (5,)),
        (f"closes {REPO}#3", (3,)),
        ("closes codertocat/hello-world#3", (3,)),  # owner/name are case-insensitive
        ("closes other/repo#3", ()),  # another repository's issue is not ours
        (f"Resolves https://github.com/{REPO}/issues/7", (7,)),
        ("Resolves https://github.com/other/repo/issues/7", ()),
        ("See #12 for context", ()),  # a mention is not a link
        ("<!-- Fixes #12 -->", ()),
        ("<!-- unclosed comment hides the rest\nFixes #12", ()),
        ("prefixes #12", ()),  # 'fixes' inside a word is not a keyword
        ("Fixes #0", ()),
        ("Fixes #12, fixes #12", (12,)),
        ("", ()),
        # A reference is read whole or not at all: never the first nine digits of a longer
        # number, never the digits before a letter (#16).
        ("Fixes #12345678901", ()),
        ("Fixes #1234567890", ()),
        ("Fixes #123456789", (123456789,)),
        ("Fixes #123abc", ()),
        ("Fixes #123_4", ()),
        (f"closes {REPO}#12345678901", ()),
        (f"Resolves https://github.com/{REPO}/issues/12345678901", ()),
        (f"Resolves https://github.com/{REPO}/issues/123abc", ()),
        (f"Resolves https://github.com/{REPO}/issues/12#issuecomment-1", (12,)),
        (template("#12345678901"), ()),
        (template("#123abc"), ()),
        (template("12345678901"), ()),
        ("Fixes #12.", (12,)),
        ("(fixes #12)", (12,)),
    ],
)
def test_related_issues(body: str, expected: tuple[int, ...]) -> None:
    assert related_issues(body, REPO) == expected


def test_strip_html_comments() -> None:
    assert strip_html_comments("a<!-- x -->b<!--y-->c") == "abc"
    assert strip_html_comments("a<!-- never closed") == "a"
    assert strip_html_comments("no comments") == "no comments"


def test_pr_without_issue_gets_one_comment_and_both_labels() -> None:
    plan = run(template(""))
    assert added(plan) == {"do-not-merge", "need-issue"}
    [comment] = comments(plan)
    assert comment.key == "related-issue"
    assert "@Codertocat" in comment.body
    assert "Issue number:" in comment.body


def test_pr_with_issue_and_acknowledgement_plans_nothing() -> None:
    assert run(template("#12")).actions == []


def test_missing_acknowledgement() -> None:
    plan = run("Fixes #12\n\nno template here")
    assert added(plan) == {"do-not-merge", "need-acknowledgment"}
    assert [c.key for c in comments(plan)] == ["acknowledgement"]


def test_both_missing_one_label_call_two_comments() -> None:
    plan = run("just a description")
    label_calls = [a for a in plan.actions if a.kind == "add_labels"]
    assert len(label_calls) == 1
    assert set(label_calls[0].labels) == {"do-not-merge", "need-issue", "need-acknowledgment"}
    assert sorted(c.key for c in comments(plan)) == ["acknowledgement", "related-issue"]


def test_only_new_prs_are_commented() -> None:
    assert run("no issue", action="reopened").actions == []
    assert run("no issue", action="edited").actions == []


def test_fixed_body_clears_the_reason_and_the_block() -> None:
    plan = run(template("#12"), action="edited", labels=("do-not-merge", "need-issue"))
    assert removed(plan) == {"do-not-merge", "need-issue"}


def test_block_stays_while_another_reason_remains() -> None:
    body = "Fixes #12"  # acknowledgement still missing
    plan = run(body, action="edited", labels=("do-not-merge", "need-issue", "need-acknowledgment"))
    assert removed(plan) == {"need-issue"}


def test_clear_when_fixed_can_be_turned_off() -> None:
    cfg = parse_config("related_issue:\n  clear_when_fixed: false\n")
    plan = run(template("#12"), action="edited", labels=("do-not-merge", "need-issue"), cfg=cfg)
    assert plan.actions == []


def test_each_check_can_be_turned_off() -> None:
    cfg = parse_config("related_issue:\n  enabled: false\nacknowledgement:\n  enabled: false\n")
    ev = pr_event("opened", body="nothing at all")
    assert not {"related_issue", "acknowledgement"} & set(decide(ev, Snapshot(), cfg).policies)
    only_ack = parse_config("related_issue:\n  enabled: false\n")
    plan = decide(pr_event("opened", body="nothing"), Snapshot(), only_ack).plan
    assert {"need-issue", "need-acknowledgment"} & added(plan) == {"need-acknowledgment"}


def test_messages_and_labels_are_configurable() -> None:
    cfg = parse_config(
        "related_issue:\n  reason_label: no-ticket\n  block_label: blocked\n"
        "  message: 'hi {author}, labels {block_label} {reason_label}'\n"
    )
    plan = run(ACK, cfg=cfg)
    assert added(plan) == {"blocked", "no-ticket"}
    assert comments(plan)[0].body == "hi Codertocat, labels blocked no-ticket"


def test_merged_prs_are_left_alone() -> None:
    ev = pr_event("closed", body="no issue", merged=True, labels=())
    assert both(context(ev)).actions == []


def test_a_pr_naming_only_itself_has_no_related_issue() -> None:
    assert added(run("Fixes #2\n" + ACK)) == {"do-not-merge", "need-issue"}  # it is PR #2
