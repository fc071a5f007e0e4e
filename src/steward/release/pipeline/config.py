"""Config section for the release pipeline (`release:` in .github/steward.yml).

The defaults are the playbook's "Release process visualized": seal, quality, build,
provenance, publish, git release (tag) and post-release, in that order.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from steward.config.base import Section

StageName = Literal["seal", "quality", "build", "provenance", "publish", "tag", "post-release"]
STAGES: tuple[StageName, ...] = (
    "seal",
    "quality",
    "build",
    "provenance",
    "publish",
    "tag",
    "post-release",
)


def _default_stages() -> list[StageName]:
    return list(STAGES)


def _default_quality() -> list[str]:
    return ["python", "-m", "pytest", "-q"]


class PipelineConfig(Section):
    """How `steward release run` seals, checks, builds, attests, publishes and tags."""

    stages: list[StageName] = Field(
        default_factory=_default_stages,
        description="stages to run, in order (seal must come first when present)",
    )
    state_dir: str = Field(".steward", description="where release state and sealed files live")
    quality_command: list[str] = Field(
        default_factory=_default_quality,
        description="argv run in the restored source tree ({version} is replaced)",
    )
    quality_timeout: float = Field(1800.0, gt=0, description="seconds before quality fails")
    build_isolation: bool = Field(
        True, description="build in an isolated environment (python -m build's default)"
    )
    reproducibility_check: bool = Field(
        False, description="build twice and fail naming any artifact whose hash differs"
    )
    index_url: str = Field(
        "https://upload.pypi.org/legacy/", description="upload URL of the package index"
    )
    index_simple_url: str = Field(
        "https://pypi.org/simple/",
        description="the index's simple API, read before uploading to skip or refuse files",
    )
    index_username_env: str = Field("TWINE_USERNAME", description="env var with the username")
    index_password_env: str = Field("TWINE_PASSWORD", description="env var with the password")
    signing_key_file: str | None = Field(
        None, description="PEM PKCS#8 Ed25519 private key file (relative to the repository)"
    )
    signing_key_env: str = Field(
        "STEWARD_SIGNING_KEY", description="env var holding the PEM key when no file is set"
    )
    builder_id: str = Field(
        "https://github.com/repo-steward/steward/release-pipeline@v1",
        description="SLSA builder.id recorded in the provenance",
    )
    remote: str = Field("origin", description="git remote the tag (and bump branch) go to")
    git_user_name: str = Field("steward-release", description="author of the bump commit")
    git_user_email: str = Field("steward-release@users.noreply.github.com")
    bump_message: str = Field("chore(version): bump version to {version}")
    bump_pr: bool = Field(False, description="push a bump branch and open its PR on GitHub")
    bump_branch: str = Field("steward/bump-{version}", description="branch for the bump PR")
    base_branch: str = Field("develop", description="branch the bump PR targets")
    repository: str | None = Field(
        None, description="OWNER/NAME on GitHub (else GITHUB_REPOSITORY) for PR and post-release"
    )
    publish_release_notes: bool = Field(
        True, description="post-release: publish the drafted GitHub release for the tag"
    )

    @field_validator("stages")
    @classmethod
    def _check_stages(cls, value: list[StageName]) -> list[StageName]:
        if len(set(value)) != len(value):
            raise ValueError("a stage is listed twice")
        if "seal" in value and value[0] != "seal":
            raise ValueError("seal must be the first stage")
        return value
