"""Path globs with gitignore's `**` semantics (as actions/labeler and boring-cyborg read them),
matched by pathspec, a maintained implementation of git's wildmatch.

`**` matches any number of path segments, including none; `*` and `?` never cross `/`;
`[...]` is a character class (`[!...]` negated); dotfiles match like any other file; a
pattern without `/` matches the basename anywhere (so `*.md` labels docs at any depth); a
trailing `/` means everything below; a leading `!` excludes what an earlier pattern of the
same list matched. Patterns compile once, and an invalid one (`[z-a]`) is a `ValueError`
naming it, which the config model turns into an error at load and at `config check`.
Matching never backtracks without bound: pathspec folds `**/**` runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pathspec

_UNCLOSED = re.compile(r"\[(?![^\]]*\])")


def _normalise(pattern: str) -> str:
    pat = pattern.strip().removeprefix("./")
    return _UNCLOSED.sub(r"\\[", pat)  # an unclosed `[` is a literal bracket


@lru_cache(maxsize=1024)
def compile_globs(patterns: tuple[str, ...]) -> pathspec.PathSpec[Any]:
    """One matcher for ``patterns``; ``ValueError`` names an invalid pattern."""
    for p in patterns:
        try:
            pathspec.PathSpec.from_lines("gitignore", [_normalise(p)])
        except (re.error, ValueError, TypeError) as exc:
            raise ValueError(f"invalid glob {p!r}: {exc}") from None
    return pathspec.PathSpec.from_lines("gitignore", [_normalise(p) for p in patterns])


def validate_globs(patterns: Sequence[str]) -> list[str]:
    """``patterns`` unchanged when every one compiles (for config validators)."""
    compile_globs(tuple(patterns))
    return list(patterns)


def match(pattern: str, path: str) -> bool:
    return compile_globs((pattern,)).match_file(path)


def match_any(patterns: Sequence[str], path: str) -> bool:
    return bool(patterns) and compile_globs(tuple(patterns)).match_file(path)
