"""Areas: labels from changed-file globs, any-file and all-files matching."""

from __future__ import annotations

import pytest

from steward.config.loader import parse_config
from steward.domain.models import ChangedFile, Snapshot
from steward.errors import ConfigError
from steward.policies import areas
from tests.unit._payloads import added, context, files, pr_event, removed

CFG = parse_config(
    """
areas:
  rules:
    - label: tracer
      any: ["aws_lambda_powertools/tracing/**", "docs/core/tracer.md"]
    - label: documentation
      all: ["docs/**", "*.md"]
    - label: typing
      any: ["**/*.pyi"]
      all: ["**/*.pyi", "**/py.typed"]
"""
)


def run(paths: list[str], labels: tuple[str, ...] = (), cfg=CFG):  # type: ignore[no-untyped-def]
    ev = pr_event("synchronize", labels=labels)
    snap = Snapshot(files=files(*[(p, 1, 1) for p in paths]))
    return areas.evaluate(context(ev, snapshot=snap, config=cfg))


def test_any_file_matching() -> None:
    plan = run(["aws_lambda_powertools/tracing/tracer.py", "tests/unit/test_x.py"])
    assert added(plan) == {"tracer"}


def test_all_files_matching_needs_every_file() -> None:
    assert added(run(["docs/index.md", "README.md"])) == {"documentation"}
    assert added(run(["docs/index.md", "src/a.py"])) == set()


def test_any_and_all_both_must_hold() -> None:
    assert added(run(["pkg/a.pyi", "pkg/py.typed"])) == {"typing"}
    assert added(run(["pkg/py.typed"])) == set()  # no .pyi: 'any' fails
    assert added(run(["pkg/a.pyi", "pkg/a.py"])) == set()  # a.py: 'all' fails


def test_one_file_can_earn_several_labels() -> None:
    assert added(run(["docs/core/tracer.md"])) == {"tracer", "documentation"}


def test_present_labels_cost_nothing_and_nothing_is_removed() -> None:
    plan = run(["docs/core/tracer.md"], labels=("tracer", "documentation", "typing"))
    assert plan.actions == []
    assert removed(run(["src/a.py"], labels=("tracer",))) == set()


def test_renamed_file_counts_under_its_old_name() -> None:
    ev = pr_event("synchronize")
    renamed = ChangedFile("src/new.py", 0, 0, "renamed", "aws_lambda_powertools/tracing/old.py")
    plan = areas.evaluate(context(ev, snapshot=Snapshot(files=(renamed,)), config=CFG))
    assert added(plan) == {"tracer"}


def test_no_files_no_labels() -> None:
    assert run([]).actions == []


def test_defaults_cover_the_playbook_labels() -> None:
    default = parse_config("")
    ev = pr_event("opened")
    snap = Snapshot(
        files=files(
            ("tests/unit/test_a.py", 1, 0),
            (".github/workflows/ci.yml", 1, 0),
            (".github/ISSUE_TEMPLATE/bug_report.yml", 1, 0),
            (".github/PULL_REQUEST_TEMPLATE.md", 1, 0),
            ("poetry.lock", 1, 0),
            ("Makefile", 1, 0),
            ("docs/index.md", 1, 0),
        )
    )
    plan = areas.evaluate(context(ev, snapshot=snap, config=default))
    assert added(plan) == {
        "tests",
        "github-actions",
        "github-templates",
        "dependencies",
        "internal",
        "documentation",
    }


def test_rule_without_globs_is_a_config_error_with_its_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config("areas:\n  rules:\n    - label: x\n      any: ['a/**']\n    - label: y\n")
    assert err.value.line == 5
    assert "areas.rules.1" in str(err.value)
