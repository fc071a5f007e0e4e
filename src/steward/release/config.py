"""Config sections for release intelligence: version, changelog, release notes."""

from __future__ import annotations

from steward.config.base import Section


class VersionConfig(Section):
    pass


class ChangelogConfig(Section):
    pass


class ReleaseNotesConfig(Section):
    pass
