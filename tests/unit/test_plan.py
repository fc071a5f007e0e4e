"""Plan merging: the fewest API calls, no cancelled or repeated writes, a stable JSON shape."""

from __future__ import annotations

import json

from steward.plan import (
    AddLabels,
    CloseIssue,
    Comment,
    Plan,
    RemoveLabel,
    SetStatus,
    marker,
)


def test_one_add_labels_per_target_in_first_seen_order() -> None:
    merged = Plan.merge(
        [
            Plan([AddLabels(1, ("size/S", "tests"))]),
            Plan([AddLabels(1, ("tests", "feature")), AddLabels(2, ("triage",))]),
        ]
    )
    assert merged.actions == [
        AddLabels(1, ("size/S", "tests", "feature")),
        AddLabels(2, ("triage",)),
    ]


def test_removal_is_cancelled_by_an_add_in_either_order() -> None:
    add_first = Plan.merge([Plan([AddLabels(1, ("docs",))]), Plan([RemoveLabel(1, "docs")])])
    remove_first = Plan.merge([Plan([RemoveLabel(1, "docs")]), Plan([AddLabels(1, ("docs",))])])
    assert add_first.actions == remove_first.actions == [AddLabels(1, ("docs",))]


def test_removal_on_another_target_or_label_survives() -> None:
    merged = Plan.merge(
        [
            Plan(
                [
                    AddLabels(1, ("a",)),
                    RemoveLabel(2, "a"),
                    RemoveLabel(1, "b"),
                    RemoveLabel(1, "b"),
                ]
            )
        ]
    )
    assert merged.actions == [AddLabels(1, ("a",)), RemoveLabel(2, "a"), RemoveLabel(1, "b")]


def test_comments_dedup_by_target_and_key_first_wins() -> None:
    merged = Plan.merge(
        [
            Plan([Comment(1, "welcome", "first")]),
            Plan([Comment(1, "welcome", "second"), Comment(2, "welcome", "other PR")]),
        ]
    )
    assert merged.actions == [Comment(1, "welcome", "first"), Comment(2, "welcome", "other PR")]


def test_status_per_sha_and_context_last_wins() -> None:
    merged = Plan.merge(
        [
            Plan([SetStatus(1, "abc", "pending", "ctx", "wait")]),
            Plan(
                [
                    SetStatus(1, "abc", "success", "ctx", "ok"),
                    SetStatus(1, "abc", "failure", "other", "no"),
                ]
            ),
        ]
    )
    assert merged.actions == [
        SetStatus(1, "abc", "success", "ctx", "ok"),
        SetStatus(1, "abc", "failure", "other", "no"),
    ]


def test_apply_order_additions_statuses_comments_removals_close() -> None:
    merged = Plan.merge(
        [
            Plan(
                [
                    CloseIssue(3),
                    Comment(3, "k", "b"),
                    SetStatus(1, "s", "success", "c", "d"),
                    RemoveLabel(3, "x"),
                    AddLabels(3, ("y",)),
                ]
            )
        ]
    )
    assert [a.kind for a in merged.actions] == [
        "add_labels",
        "set_status",
        "comment",
        "remove_label",  # after comments: a removed marker label must not lose a comment
        "close_issue",
    ]


def test_notes_are_kept() -> None:
    assert Plan.merge([Plan(notes=["a"]), Plan(notes=["b"])]).notes == ["a", "b"]


def test_json_shape() -> None:
    plan = Plan(
        [
            AddLabels(2, ("size/XS", "feature")),
            RemoveLabel(2, "bug"),
            SetStatus(2, "ec26c3e", "failure", "steward/semantic-title", "bad title"),
            Comment(2, "large-pr", "Please split"),
            CloseIssue(7),
        ]
    )
    data = json.loads(json.dumps(plan.to_json()))
    assert data["actions"] == [
        {"kind": "add_labels", "number": 2, "labels": ["size/XS", "feature"]},
        {"kind": "remove_label", "number": 2, "label": "bug"},
        {
            "kind": "set_status",
            "number": 2,
            "state": "failure",
            "context": "steward/semantic-title",
            "description": "bad title",
            "sha": "ec26c3e",
        },
        {
            "kind": "comment",
            "number": 2,
            "body": "Please split\n\n<!-- steward:large-pr -->",
            "key": "large-pr",
        },
        {"kind": "close_issue", "number": 7, "reason": "completed"},
    ]


def test_marker_is_a_hidden_html_comment() -> None:
    assert marker("welcome-pr") == "<!-- steward:welcome-pr -->"
    assert Comment(1, "k", "hi").full_body == "hi\n\n<!-- steward:k -->"


def test_render() -> None:
    assert Plan().render() == "nothing to do"
    assert Plan(notes=["skipped"]).render() == "nothing to do\n  note: skipped"
    text = Plan(
        [AddLabels(2, ("a", "b")), Comment(2, "k", "\nFirst line\nsecond"), CloseIssue(3)]
    ).render()
    assert text.splitlines() == [
        "#2: add labels a, b",
        "#2: comment [k] First line",
        "#3: close (completed)",
    ]
