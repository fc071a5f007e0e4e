"""Checks a config value must pass, written so that defining a section does not import
pydantic: a `Check` in a field's ``Annotated[...]`` becomes an after-validator (and its
``doc`` the field's description in `steward config schema`) only when pydantic builds the
schema, which happens when a file is loaded. The release sections are plain dataclasses
built on these (`steward.config.release`), so `steward version` and `steward changelog`
with no config file start without pydantic at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from steward.workspace import check_relative


class Check:
    """An after-validator (``fn`` returns the value, or raises ValueError saying why) and
    the field's description, for pydantic to find in ``Annotated`` metadata."""

    __slots__ = ("doc", "fn")

    def __init__(self, fn: Callable[[Any], Any] | None = None, doc: str | None = None) -> None:
        self.fn = fn
        self.doc = doc

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        from pydantic_core import core_schema

        inner = handler(source)
        if self.fn is None:
            return inner
        return core_schema.no_info_after_validator_function(self.fn, inner)

    def __get_pydantic_json_schema__(self, schema: Any, handler: Callable[[Any], Any]) -> Any:
        out = handler(schema)
        if self.doc and isinstance(out, dict):
            out["description"] = self.doc
        return out


def doc(text: str) -> Check:
    """Only a description."""
    return Check(None, text)


RepoPath = Annotated[str, Check(check_relative)]
"""A path the config names: relative to the repository, no ``..``, no ``.git`` (checked as
text when the file is loaded, so the error names its line; `steward.workspace` checks the
rest, symlinks and file types, where the path is used)."""


def matching(pattern: str, what: str) -> Callable[[str], str]:
    """A check that the whole value matches ``pattern``."""
    rx = re.compile(pattern)

    def check(value: str) -> str:
        if not rx.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return check
