"""Semantic title: conventional PR titles, one change-type label, a commit status."""

from __future__ import annotations

import pytest

from steward.config.loader import parse_config
from steward.domain.models import Snapshot
from steward.plan import Plan
from steward.policies import semantic_title
from tests.unit._payloads import added, context, files, pr_event, removed, statuses

CONTEXT = "steward/semantic-title"
HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # the example PR's head commit


def run(
    title: str, action: str = "opened", snapshot: Snapshot | None = None, cfg=None, **kw
) -> Plan:  # type: ignore[no-untyped-def]
    kw.setdefault("labels", ())  # the real example PR carries `bug`; start from none
    ev = pr_event(action, title=title, **kw)
    return semantic_title.evaluate(context(ev, snapshot=snapshot, config=cfg))


@pytest.mark.parametrize(
    ("title", "label"),
    [
        ("feat: add idempotency", "feature"),
        ("feat(logger): add a key", "feature"),
        ("fix: crash on empty event", "bug"),
        ("bug(parser): crash", "bug"),
        ("docs: fix typo", "documentation"),
        ("chore: bump ruff", "internal"),
        ("refactor(tracer): tidy", "enhancement"),
        ("deprecated: old decorator", "deprecated"),
        ("Feat: upper-case type", "feature"),
    ],
)
def test_change_type_label(title: str, label: str) -> None:
    plan = run(title)
    assert added(plan) == {label}
    [status] = statuses(plan)
    assert (status.state, status.context, status.sha) == ("success", CONTEXT, HEAD_SHA)


def test_types_without_label_pass_and_add_nothing() -> None:
    plan = run("ci: cache uv")
    assert added(plan) == set()
    assert statuses(plan)[0].state == "success"


def test_refactor_can_map_to_tech_debt() -> None:
    cfg = parse_config("semantic_title:\n  types: {refactor: tech-debt, feat: feature}\n")
    assert added(run("refactor: split module", cfg=cfg)) == {"tech-debt"}


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("feat!: drop python 3.8", "plain body"),
        ("feat(logger)!: new format", None),
        ("feat: new format", "Summary\n\nBREAKING CHANGE: the format changed\n"),
        ("feat: new format", "BREAKING-CHANGE: dash form"),
    ],
)
def test_breaking_change(title: str, body: str | None) -> None:
    plan = run(title, body=body)
    assert added(plan) == {"feature", "breaking-change"}


def test_breaking_note_inside_a_template_comment_does_not_count() -> None:
    body = "<!-- if breaking, write:\nBREAKING CHANGE: what changed\n-->\nFixes #1"
    assert added(run("feat: x", body=body)) == {"feature"}


def test_title_edit_replaces_the_stale_change_type_label() -> None:
    plan = run(
        "feat: actually a feature",
        action="edited",
        previous_title="fix: looked like a bug",
        labels=("bug", "size/S"),
    )
    assert added(plan) == {"feature"}
    assert removed(plan) == {"bug"}


def test_breaking_label_goes_when_the_bang_is_edited_away() -> None:
    plan = run(
        "feat: x",
        action="edited",
        previous_title="feat!: x",
        labels=("feature", "breaking-change"),
    )
    assert removed(plan) == {"breaking-change"}
    assert added(plan) == set()


def test_manual_breaking_label_stays_without_title_history() -> None:
    plan = run("feat: x", action="synchronize", labels=("feature", "breaking-change"))
    assert plan.actions == statuses(plan)  # only the status


def test_scope_naming_an_area_adds_that_label() -> None:
    cfg = parse_config(
        "areas:\n  rules:\n    - label: tracer\n      any: ['tracer/**']\n"
        "semantic_title:\n  scope_labels: {deps: dependencies}\n"
    )
    assert added(run("fix(tracer): x", cfg=cfg)) == {"bug", "tracer"}
    assert added(run("chore(deps): bump", cfg=cfg)) == {"internal", "dependencies"}
    assert added(run("fix(unknown): x", cfg=cfg)) == {"bug"}
    assert added(run("fix(Tracer): x", cfg=cfg)) == {"bug", "tracer"}  # case-insensitive


def test_scope_mapping_can_be_turned_off() -> None:
    cfg = parse_config("semantic_title:\n  scope_to_area: false\n")
    assert added(run("fix(tests): x", cfg=cfg)) == {"bug"}
    assert added(run("fix(tests): x")) == {"bug", "tests"}


@pytest.mark.parametrize(
    "title",
    [
        "Update the README with new information.",
        "feat:no space",
        "feat: ",
        "feat(): empty scope",
        "(scope): no type",
        "feat(a)(b): two scopes",
        "unknowntype: subject",
        "x" * 5000,
    ],
)
def test_bad_titles_fail_with_a_one_line_reason(title: str) -> None:
    plan = run(title, labels=("feature",))
    [status] = statuses(plan)
    assert status.state == "failure"
    assert status.description
    assert "\n" not in status.description
    assert len(status.description) <= 140  # GitHub's limit for status descriptions
    assert added(plan) == set()
    assert removed(plan) == set()


def test_unknown_type_reason_names_the_type() -> None:
    [status] = statuses(run("yolo: subject"))
    assert "yolo" in status.description


@pytest.mark.parametrize("title", ["WIP: feat: x", "[WIP] anything", "wip", "Draft: x"])
def test_wip_titles_stay_pending(title: str) -> None:
    plan = run(title, labels=("bug",))
    [status] = statuses(plan)
    assert status.state == "pending"
    assert plan.actions == [status]


def test_squash_suffix_is_accepted() -> None:
    assert added(run("fix(parser): handle empty (#123)")) == {"bug"}


def test_documentation_label_from_files_survives_a_feature_title() -> None:
    # `documentation` is both a change type (docs:) and an area (docs/**): a feat PR that
    # touches docs keeps it, or the two policies would undo each other on every push.
    snap = Snapshot(files=files(("docs/index.md", 5, 0), ("src/a.py", 5, 0)))
    plan = run("feat: x", action="synchronize", snapshot=snap, labels=("documentation",))
    assert removed(plan) == set()


def test_documentation_label_without_docs_files_goes_with_the_title() -> None:
    snap = Snapshot(files=files(("src/a.py", 5, 0)))
    plan = run(
        "feat: x",
        action="edited",
        previous_title="docs: x",
        snapshot=snap,
        labels=("documentation",),
    )
    assert removed(plan) == {"documentation"}
    assert added(plan) == {"feature"}


def test_area_type_label_is_kept_when_files_are_unknown_and_title_did_not_set_it() -> None:
    plan = run("feat: x", action="edited", previous_title="fix: x", labels=("internal", "bug"))
    assert removed(plan) == {"bug"}


def test_area_type_label_goes_when_files_unknown_but_old_title_set_it() -> None:
    plan = run("feat: x", action="edited", previous_title="chore: x", labels=("internal",))
    assert removed(plan) == {"internal"}
