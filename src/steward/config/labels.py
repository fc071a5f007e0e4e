"""The playbook's label taxonomy as code: its Labels table, with a colour for each label."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from steward.config.base import Section

_COLOUR = re.compile(r"[0-9a-fA-F]{6}")


class LabelSpec(Section):
    """A label a managed repository should have. ``from`` renames an existing label."""

    name: str = Field(min_length=1, max_length=50)
    color: str = Field(description="six hex digits, no #")
    description: str = Field(default="", max_length=100)
    from_: list[str] = Field(default_factory=list, alias="from")

    @field_validator("color")
    @classmethod
    def _hex(cls, value: str) -> str:
        value = value.removeprefix("#")
        if not _COLOUR.fullmatch(value):
            raise ValueError("must be six hex digits such as 'd73a4a'")
        return value.lower()


# (name, colour, description): the playbook's "Usage" column, shortened to GitHub's 100 chars.
PLAYBOOK_LABELS: tuple[tuple[str, str, str], ...] = (
    ("triage", "fbca04", "New issues that require maintainers review"),
    ("bug", "d73a4a", "Unexpected, reproducible and unintended software behavior"),
    ("not-a-bug", "e4e669", "New and existing bug reports incorrectly submitted as bug"),
    ("documentation", "0075ca", "Documentation improvements"),
    ("feature-request", "a2eeef", "New or enhancements to existing features"),
    ("typing", "5319e7", "New or enhancements to static typing"),
    ("RFC", "c5def5", "Technical design documents related to a feature request"),
    ("bug-upstream", "b60205", "Bug caused by upstream dependency"),
    ("help wanted", "008672", "Tasks you want help from anyone to move forward"),
    ("need-customer-feedback", "d876e3", "Tasks that need more feedback before proceeding"),
    ("need-more-information", "d876e3", "Missing information before making any calls"),
    ("need-documentation", "d876e3", "PR is missing or has incomplete documentation"),
    ("need-issue", "d876e3", "PR is missing a related issue for tracking change"),
    ("need-acknowledgment", "d876e3", "PR is missing the acknowledgment section of its template"),
    ("need-rfc", "d876e3", "Feature request requires a RFC to improve discussion"),
    ("pending-release", "0e8a16", "Merged changes that will be available soon"),
    ("revisit-in-3-months", "ededed", "Blocked issues/PRs that need to be revisited"),
    (
        "breaking-change",
        "b60205",
        "Changes that will cause customer impact and need careful triage",
    ),
    ("do-not-merge", "e11d21", "PRs that are blocked for varying reasons"),
    ("size/XS", "009900", "PRs between 0-9 LOC"),
    ("size/S", "77bb00", "PRs between 10-29 LOC"),
    ("size/M", "eebb00", "PRs between 30-99 LOC"),
    ("size/L", "ee9900", "PRs between 100-499 LOC"),
    ("size/XL", "ee5500", "PRs between 500-999 LOC, often PRs that grown with feedback"),
    ("size/XXL", "ee0000", "PRs with 1K+ LOC, largely documentation related"),
    ("tests", "c2e0c6", "PRs that add or change tests"),
    ("feature", "a2eeef", "New features or minor changes"),
    ("dependencies", "0366d6", "Changes that touch dependencies, e.g. Dependabot, etc."),
    ("github-actions", "000000", "Changes in GitHub workflows"),
    ("github-templates", "bfd4f2", "Changes in GitHub issue/PR templates"),
    ("internal", "ededed", "Changes in governance and chores (linting setup, baseline, etc.)"),
    ("tech-debt", "fef2c0", "Changes in tech debt"),
    ("enhancement", "a2eeef", "Improvements to existing behaviour"),
    ("deprecated", "cccccc", "Deprecation of existing behaviour"),
    ("stale", "ededed", "No activity for a while; closed soon unless updated"),
    ("customer-reference", "bfdadc", "Authorization to use company name in our documentation"),
    ("community-content", "bfdadc", "Suggested content to feature in our documentation"),
)


def playbook_labels() -> list[LabelSpec]:
    return [
        LabelSpec.model_validate({"name": n, "color": c, "description": d})
        for n, c, d in PLAYBOOK_LABELS
    ]
