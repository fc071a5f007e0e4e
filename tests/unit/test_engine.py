"""The engine: which policies run, what is ignored and why, and idempotency."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.config.loader import parse_config
from steward.config.model import StewardConfig
from steward.domain.events import Ignored, PullRequestEvent, parse_event
from steward.domain.models import ChangedFile, Snapshot
from steward.engine import decide
from steward.plan import AddLabels, Comment, RemoveLabel
from steward.policies.registry import policies
from tests.unit._payloads import _examples, files, issue_event, pr_event, release_event

CONFIG = parse_config("")
HANDLED = {
    "pull_request": {
        "opened",
        "reopened",
        "edited",
        "synchronize",
        "labeled",
        "unlabeled",
        "closed",
    },
    "issues": {"opened", "labeled", "closed"},
    "release": {"published"},
    "merge_group": {"checks_requested"},
}


def test_every_other_real_event_is_ignored_with_a_one_line_reason() -> None:
    seen = 0
    for name, examples in _examples().items():
        for payload in examples:
            action = payload.get("action")
            if action in HANDLED.get(name, set()):
                continue
            parsed = parse_event(name, payload)
            assert isinstance(parsed, Ignored), (name, action)
            decision = decide(parsed, Snapshot(), CONFIG)
            assert decision.plan.actions == []
            assert decision.ignored
            assert "\n" not in decision.ignored
            assert len(decision.ignored) <= 200
            seen += 1
    assert seen > 300  # nearly all of GitHub's example events


def test_handled_real_events_run_their_policies() -> None:
    ran = decide(pr_event("opened"), Snapshot(files=()), CONFIG).policies
    assert set(ran) >= {
        "size",
        "areas",
        "semantic_title",
        "related_issue",
        "acknowledgement",
        "triage",
        "merge_gate",
    }
    assert decide(issue_event("opened"), Snapshot(), CONFIG).policies == ("triage",)
    assert decide(release_event(tag="v1.0.0"), Snapshot(), CONFIG).policies == ("post_release",)


def test_ignored_authors_are_skipped_case_insensitively() -> None:
    for login in ("dependabot[bot]", "Renovate[bot]"):
        decision = decide(pr_event("opened", login=login, labels=()), Snapshot(files=()), CONFIG)
        assert decision.plan.actions == []
        assert decision.ignored is not None
        assert login in decision.ignored
    issue = issue_event("opened", login="github-actions[bot]")
    assert decide(issue, Snapshot(), CONFIG).ignored


def test_ignore_list_is_configurable() -> None:
    cfg = parse_config("ignore_authors: [Codertocat]\n")
    assert decide(pr_event("opened"), Snapshot(), cfg).ignored
    assert (
        decide(
            pr_event("opened", login="dependabot[bot]"),
            Snapshot(files=()),
            parse_config("ignore_authors: []\n"),
        ).ignored
        is None
    )


def test_new_pr_one_event_one_label_call() -> None:
    ev = pr_event("opened", title="feat(tests): add cases", body="no issue", labels=())
    snap = Snapshot(files=(ChangedFile("tests/unit/test_a.py", 20, 5),))
    plan = decide(ev, snap, CONFIG).plan
    label_calls = [a for a in plan.actions if isinstance(a, AddLabels)]
    assert len(label_calls) == 1
    assert set(label_calls[0].labels) == {
        "size/S",
        "tests",
        "feature",
        "do-not-merge",
        "need-issue",
        "need-acknowledgment",
    }
    assert {c.key for c in plan.actions if isinstance(c, Comment)} == {
        "related-issue",
        "acknowledgement",
    }


# ---- idempotency: feeding the event again with the labels the first plan produced ----

TITLES = [
    "feat: add x",
    "feat(tests)!: drop y",
    "fix(docs): typo",
    "docs: guide",
    "chore(internal): lint",
    "refactor: tidy",
    "deprecated: old api",
    "WIP: feat: later",
    "not conventional",
    "ci: cache",
]
BODIES = [
    "no issue",
    "Fixes #1\nBy submitting this pull request, I confirm that you can use it",
    "**Issue number:** #3\n\nBREAKING CHANGE: gone\n"
    "By submitting this pull request, I confirm that",
    "<!-- Fixes #4 -->",
]
PATHS = [
    "src/a.py",
    "docs/index.md",
    "tests/test_a.py",
    "poetry.lock",
    ".github/workflows/ci.yml",
    "Makefile",
]
LABELS = [
    "bug",
    "feature",
    "documentation",
    "internal",
    "enhancement",
    "breaking-change",
    "size/XS",
    "size/XXL",
    "do-not-merge",
    "need-issue",
    "need-acknowledgment",
    "tests",
    "triage",
]


@cache
def _base(action: str) -> PullRequestEvent:
    ev = (
        pr_event(action, previous_title="fix!: before", label="do-not-merge")
        if action
        in {
            "edited",
            "labeled",
            "unlabeled",
        }
        else pr_event(action)
    )
    assert isinstance(ev, PullRequestEvent)
    return ev


file_lists = st.one_of(
    st.none(),
    st.lists(
        st.builds(ChangedFile, st.sampled_from(PATHS), st.integers(0, 700), st.integers(0, 400)),
        max_size=4,
    ).map(tuple),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    action=st.sampled_from(["opened", "reopened", "edited", "synchronize", "labeled", "unlabeled"]),
    title=st.sampled_from(TITLES),
    body=st.sampled_from(BODIES),
    labels=st.lists(st.sampled_from(LABELS), unique=True, max_size=6).map(tuple),
    files=file_lists,
    association=st.sampled_from(["OWNER", "FIRST_TIME_CONTRIBUTOR"]),
)
def test_decide_is_idempotent(
    action: str,
    title: str,
    body: str,
    labels: tuple[str, ...],
    files: tuple[ChangedFile, ...] | None,
    association: str,
) -> None:
    base = _base(action)
    pr = replace(
        base.pull_request, title=title, body=body, labels=labels, author_association=association
    )
    ev = replace(base, pull_request=pr)
    snap = Snapshot(files=files)
    first = decide(ev, snap, CONFIG).plan
    after = list(labels)
    for a in first.actions:
        if isinstance(a, AddLabels):
            after += [lbl for lbl in a.labels if lbl not in after]
        elif isinstance(a, RemoveLabel):
            assert a.label in after  # never plans removing an absent label
            after.remove(a.label)
    second = decide(replace(ev, pull_request=replace(pr, labels=tuple(after))), snap, CONFIG).plan
    assert [a for a in second.actions if isinstance(a, AddLabels | RemoveLabel)] == []
    first_keys = {(c.number, c.key) for c in first.actions if isinstance(c, Comment)}
    assert {(c.number, c.key) for c in second.actions if isinstance(c, Comment)} <= first_keys


# ---- the registry: adding a policy is one new file ----

NEW_POLICY = """
from steward.domain.events import IssueEvent
from steward.plan import AddLabels, Plan
from steward.policies.context import Context
from steward.policies.policy import Policy, PolicySection, handles


class GreetConfig(PolicySection):
    label: str = "greeted"


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    if not cfg.enabled or not isinstance(ctx.event, IssueEvent):
        return Plan()
    return Plan().add(AddLabels(ctx.event.issue.number, (cfg.label,)))


POLICY = Policy(
    name="greet",
    section=GreetConfig,
    help="new issues get a greeting label",
    order=90,
    evaluate=evaluate,
    events=handles(issues={"opened"}),
    labels=lambda cfg: (cfg.label,),
)
"""

PROBE = """
import json, sys
import steward.policies
steward.policies.__path__.append(sys.argv[1])  # the new file's directory, as if in the package
from click.testing import CliRunner
from steward.cli.main import cli
from steward.config.loader import parse_config
from steward.config.model import StewardConfig
from steward.domain.models import Snapshot
from steward.engine import decide
from tests.unit._payloads import issue_event

cfg = parse_config("greet:\\n  label: hello\\n")
decision = decide(issue_event("opened"), Snapshot(), cfg)
print(json.dumps({
    "section": cfg.greet.label,
    "ran": list(decision.policies),
    "labels": [list(a.labels) for a in decision.plan.actions if a.kind == "add_labels"],
    "unlisted": sorted(set(cfg.labels_by_policy().items()) - {(n, n) for n in cfg.label_names()}),
    "help": CliRunner().invoke(cli, ["handle", "--help"]).output,
    "schema": "greet" in cfg.model_json_schema()["properties"],
}))
"""


def test_a_new_policy_file_is_all_it_takes(tmp_path: Path) -> None:
    """The engine, the config model, `config check`'s label list and --help find it."""
    (tmp_path / "greet.py").write_text(NEW_POLICY, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["section"] == "hello"
    assert found["ran"] == ["triage", "greet"]
    assert found["labels"] == [["triage", "hello"]]  # one label call for both policies
    assert ["hello", "greet"] in found["unlisted"]
    assert "greet" in found["help"]
    assert "new issues get a greeting label" in found["help"]
    assert found["schema"] is True


def test_the_registry_has_every_policy_in_stage_order() -> None:
    found = [(p.name, p.stage) for p in policies()]
    assert found == [
        ("size", "labels"),
        ("areas", "labels"),
        ("semantic_title", "labels"),
        ("related_issue", "labels"),
        ("acknowledgement", "labels"),
        ("pending_release", "labels"),
        ("post_release", "labels"),
        ("triage", "labels"),
        ("merge_gate", "gate"),
        ("large_pr", "gate"),
        ("sweep", "scheduled"),
    ]
    fields = StewardConfig.model_fields
    for p in policies():
        assert fields[p.name].annotation is p.section
        assert isinstance(p.of(StewardConfig()), p.section)


DISABLED_CASES = {
    "size": (lambda: pr_event("opened"), lambda: Snapshot(files=files(("a.py", 5, 5)))),
    "areas": (lambda: pr_event("opened"), lambda: Snapshot(files=files(("docs/a.md", 5, 5)))),
    "semantic_title": (lambda: pr_event("opened", title="nonsense"), Snapshot),
    "related_issue": (lambda: pr_event("opened", body="nothing"), Snapshot),
    "acknowledgement": (lambda: pr_event("opened", body="nothing"), Snapshot),
    "merge_gate": (lambda: pr_event("labeled", labels=("do-not-merge",)), Snapshot),
    "large_pr": (lambda: pr_event("labeled", label="size/XXL", labels=("size/XXL",)), Snapshot),
    "pending_release": (lambda: pr_event("closed", merged=True, body="Fixes #4"), Snapshot),
    "triage": (lambda: issue_event("opened"), Snapshot),
}


@pytest.mark.parametrize("name", sorted(DISABLED_CASES))
def test_a_disabled_policy_is_never_called(name: str) -> None:
    """The engine calls a policy only for the events it declares and only when its section
    is enabled: the policy's own code starts with its decision."""
    make_event, make_snapshot = DISABLED_CASES[name]
    on = decide(make_event(), make_snapshot(), parse_config(""))
    assert name in on.policies
    off = decide(make_event(), make_snapshot(), parse_config(f"{name}:\n  enabled: false\n"))
    assert name not in off.policies
    assert off.policies == tuple(p for p in on.policies if p != name)
