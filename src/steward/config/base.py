"""Base for every config section: unknown keys are errors, values are validated."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from steward.workspace import check_relative


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


RepoPath = Annotated[str, AfterValidator(check_relative)]
"""A path the config names: relative to the repository, no ``..``, no ``.git`` (checked as
text when the file is loaded, so the error names its line; `steward.workspace` checks the
rest, symlinks and file types, where the path is used)."""
