"""Areas: labels from changed-file globs (the playbook's `<utility>`, tests, docs, ... labels).

A rule matches when any changed file matches one of its `any` globs, or when every changed
file matches one of its `all` globs (both may be given; then both must hold). Area labels are
only added: a maintainer's correction is never undone.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from steward.config.base import Section
from steward.config.lists import Once
from steward.domain.events import PullRequestEvent
from steward.domain.models import ChangedFile
from steward.globs import match_any, validate_globs
from steward.plan import AddLabels, Plan
from steward.policies.context import Context
from steward.policies.policy import ChangedFiles, Policy, PolicySection, handles


class AreaRule(Section):
    label: str = Field(min_length=1, max_length=50)
    any: Once = Field(default_factory=list, description="label if any file matches")
    all: Once = Field(default_factory=list, description="label if all files match")

    @field_validator("any", "all")
    @classmethod
    def _globs_compile(cls, value: list[str]) -> list[str]:
        return validate_globs(value)

    @model_validator(mode="after")
    def _one_kind(self) -> AreaRule:
        if not self.any and not self.all:
            raise ValueError(f"area {self.label!r} needs 'any' or 'all' globs")
        return self

    def matches(self, paths: list[str]) -> bool:
        if not paths:
            return False
        ok_any = not self.any or any(match_any(self.any, p) for p in paths)
        ok_all = not self.all or all(match_any(self.all, p) for p in paths)
        return ok_any and ok_all


def _default_rules() -> list[AreaRule]:
    return [
        AreaRule(label="tests", any=["tests/**", "test/**", "**/test_*.py", "**/*_test.py"]),
        AreaRule(label="documentation", any=["docs/**", "*.md", "mkdocs.yml"]),
        AreaRule(label="github-actions", any=[".github/workflows/**", ".github/actions/**"]),
        AreaRule(
            label="github-templates",
            any=[
                ".github/ISSUE_TEMPLATE/**",
                ".github/PULL_REQUEST_TEMPLATE*",
                ".github/pull_request_template*",
            ],
        ),
        AreaRule(
            label="dependencies",
            any=[
                "pyproject.toml",
                "poetry.lock",
                "uv.lock",
                "requirements*.txt",
                "setup.py",
                "setup.cfg",
                "Pipfile",
                "Pipfile.lock",
            ],
        ),
        AreaRule(
            label="internal",
            any=[
                "Makefile",
                ".pre-commit-config.yaml",
                "ruff.toml",
                "mypy.ini",
                ".gitignore",
                "CODEOWNERS",
            ],
        ),
    ]


class AreasConfig(PolicySection):
    rules: list[AreaRule] = Field(default_factory=_default_rules)

    def labels(self) -> list[str]:
        return [r.label for r in self.rules]

    def matching(self, files: tuple[ChangedFile, ...]) -> tuple[str, ...]:
        """Labels whose rule matches ``files`` (renames count under both names)."""
        paths: list[str] = []
        for f in files:
            paths.append(f.filename)
            if f.previous_filename:
                paths.append(f.previous_filename)
        return tuple(dict.fromkeys(r.label for r in self.rules if r.matches(paths)))


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    plan = Plan()
    ev = ctx.event
    if not isinstance(ev, PullRequestEvent):
        return plan
    files = ctx.snapshot.files
    if files is None:
        return plan.note("areas: changed files were not read; area labels left as they are")
    wanted = tuple(lbl for lbl in cfg.matching(files) if lbl not in ev.pull_request.labels)
    if wanted:
        plan.add(AddLabels(ev.pull_request.number, wanted))
    return plan


POLICY = Policy(
    name="areas",
    section=AreasConfig,
    help="area labels (tests, documentation, dependencies, ...) from changed-file globs",
    order=20,
    evaluate=evaluate,
    events=handles(pull_request={"opened", "reopened", "synchronize"}),
    reads=lambda _: (ChangedFiles(),),
    labels=lambda cfg: cfg.labels(),
)
