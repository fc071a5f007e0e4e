"""The release sections of the config alone: what `steward version` and `steward changelog`
read. Loading them does not assemble the whole model (every policy's section, the release
pipeline's, the label taxonomy), which costs a release command more start-up time than its
work on a typical history. `steward config check` still validates the whole file.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator

from steward.config.base import Section
from steward.release.config import (
    ChangelogConfig,
    PackageConfig,
    ReleaseNotesConfig,
    VersionConfig,
)
from steward.workspace import Origin

_ORIGIN = "steward_origin"  # a key of the model's __dict__ that is no field

# The core's other sections (`steward.config.model.ConfigCore`); a test keeps this true.
OTHER_CORE_KEYS = frozenset({"ignore_authors", "labels", "release"})


class ReleaseSections(Section):
    """The sections release intelligence reads; the whole config model extends it."""

    version: VersionConfig = Field(default_factory=VersionConfig)
    changelog: ChangelogConfig = Field(default_factory=ChangelogConfig)
    release_notes: ReleaseNotesConfig = Field(default_factory=ReleaseNotesConfig)
    packages: list[PackageConfig] = Field(
        default_factory=list,
        description="a monorepo's packages; empty: the repository is one package",
    )

    @property
    def origin(self) -> Origin | None:
        """Where this config was loaded from (None: the playbook's defaults): the file and
        the line of each key, for the errors of path settings checked where they are used
        (`steward.workspace`). Kept beside the fields, not in them: two configs with the
        same values are equal wherever they were read."""
        origin = self.__dict__.get(_ORIGIN)
        return origin if isinstance(origin, Origin) else None

    def with_origin(self, origin: Origin) -> Self:
        """This config, remembering ``origin`` (`steward.config.loader` calls it)."""
        self.__dict__[_ORIGIN] = origin
        return self

    @field_validator("packages")
    @classmethod
    def _unique_packages(cls, value: list[PackageConfig]) -> list[PackageConfig]:
        names = [p.name for p in value]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"package {sorted(dup)[0]!r} is listed twice")
        return value


RELEASE_KEYS = frozenset(ReleaseSections.model_fields)
