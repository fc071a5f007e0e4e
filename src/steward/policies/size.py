"""Size: label a PR `size/*` by lines changed, skipping ignored paths; one size label remains.

Bands are the playbook's (and Prow's size plugin): XS 0-9, S 10-29, M 30-99, L 100-499,
XL 500-999, XXL 1000+. Lines are additions + deletions of the changed files.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from steward.config.lists import Once
from steward.domain.events import PullRequestEvent
from steward.domain.models import ChangedFile
from steward.globs import match_any, validate_globs
from steward.plan import AddLabels, Plan, RemoveLabel
from steward.policies.context import Context
from steward.policies.policy import ChangedFiles, Policy, PolicySection, handles


class SizeConfig(PolicySection):
    prefix: str = "size/"
    bands: dict[str, int] = Field(
        default_factory=lambda: {"XS": 0, "S": 10, "M": 30, "L": 100, "XL": 500, "XXL": 1000},
        description="band name -> smallest line count in the band",
    )
    ignore: Once = Field(
        default_factory=lambda: [
            "*.lock",
            "poetry.lock",
            "uv.lock",
            "Pipfile.lock",
            "package-lock.json",
            "yarn.lock",
            "pnpm-lock.yaml",
            "**/__snapshots__/**",
            "**/*.min.js",
            "**/*_pb2.py",
            "**/*_pb2.pyi",
        ],
        description="globs of generated or lock files left out of the count",
    )

    @field_validator("ignore")
    @classmethod
    def _globs_compile(cls, value: list[str]) -> list[str]:
        return validate_globs(value)

    @field_validator("bands")
    @classmethod
    def _bands(cls, value: dict[str, int]) -> dict[str, int]:
        if not value:
            raise ValueError("at least one band is needed")
        if min(value.values()) != 0:
            raise ValueError("the smallest band must start at 0")
        if len(set(value.values())) != len(value):
            raise ValueError("two bands start at the same line count")
        return value

    def label_for(self, lines: int) -> str:
        name = max((start, band) for band, start in self.bands.items() if start <= lines)[1]
        return f"{self.prefix}{name}"

    def all_labels(self) -> list[str]:
        return [f"{self.prefix}{b}" for b in self.bands]


def count_lines(files: tuple[ChangedFile, ...], ignore: list[str]) -> int:
    return sum(f.additions + f.deletions for f in files if not match_any(ignore, f.filename))


def evaluate(ctx: Context) -> Plan:
    cfg = POLICY.of(ctx.config)
    plan = Plan()
    ev = ctx.event
    if not isinstance(ev, PullRequestEvent):
        return plan
    files = ctx.snapshot.files
    if files is None:
        return plan.note("size: changed files were not read; size label left as it is")
    pr = ev.pull_request
    wanted = cfg.label_for(count_lines(files, cfg.ignore))
    if wanted not in pr.labels:
        plan.add(AddLabels(pr.number, (wanted,)))
    for stale in cfg.all_labels():
        if stale != wanted and stale in pr.labels:
            plan.add(RemoveLabel(pr.number, stale))
    return plan


POLICY = Policy(
    name="size",
    section=SizeConfig,
    help="size/XS..size/XXL by lines changed (lock and generated files left out)",
    order=10,
    evaluate=evaluate,
    events=handles(pull_request={"opened", "reopened", "synchronize", "edited"}),
    reads=lambda _: (ChangedFiles(),),
    labels=lambda cfg: cfg.all_labels(),
)
