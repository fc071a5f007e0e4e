"""`plan_sync`: the label changes that make a repository match the taxonomy (pure)."""

from __future__ import annotations

from steward.config.labels import LabelSpec
from steward.github.records import Label
from steward.shell.labels_sync import LabelChange, plan_sync


def spec(name: str, color: str = "aaaaaa", description: str = "", *old: str) -> LabelSpec:
    return LabelSpec.model_validate(
        {"name": name, "color": color, "description": description, "from": list(old)}
    )


def have(name: str, color: str = "aaaaaa", description: str | None = "") -> Label:
    return Label(name, color, description)


def test_in_sync_means_no_change_and_null_description_equals_empty():
    assert plan_sync([spec("bug")], [have("bug", "AAAAAA", None)], prune=True) == []


def test_create_update_and_case_only_rename():
    changes = plan_sync(
        [spec("bug", "d73a4a"), spec("Feature"), spec("new")],
        [have("bug"), have("feature")],
        prune=False,
    )
    assert changes == [
        LabelChange("update", "bug", "d73a4a", "", current="bug"),
        LabelChange("update", "Feature", "aaaaaa", "", current="feature"),
        LabelChange("create", "new", "aaaaaa", ""),
    ]


def test_rename_from_an_old_name_claims_it_so_prune_keeps_it():
    changes = plan_sync(
        [spec("feature", "aaaaaa", "", "enhancement")],
        [have("enhancement"), have("wontfix")],
        prune=True,
    )
    assert changes == [
        LabelChange("rename", "feature", "aaaaaa", "", current="enhancement"),
        LabelChange("delete", "wontfix"),
    ]


def test_rename_is_skipped_when_the_new_name_already_exists():
    changes = plan_sync(
        [spec("feature", "aaaaaa", "", "enhancement")],
        [have("feature"), have("enhancement")],
        prune=False,
    )
    assert changes == []  # both exist: nothing renamed, the old one left for --prune


def test_labels_without_a_name_are_left_alone_and_duplicates_count_once():
    changes = plan_sync(
        [spec("bug")],
        [Label("", "aaaaaa"), have("bug"), have("BUG", "bbbbbb")],
        prune=True,
    )
    assert changes == []
