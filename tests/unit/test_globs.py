"""Globs with `**` semantics, as actions/labeler and boring-cyborg read them."""

from __future__ import annotations

import pytest

from steward.globs import match, match_any


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("docs/**", "docs/index.md", True),
        ("docs/**", "docs/a/b/c.md", True),
        ("docs/**", "src/docs/a.md", False),
        ("docs/**", "docsx/a.md", False),
        ("**/test_*.py", "test_a.py", True),  # ** matches zero segments
        ("**/test_*.py", "tests/unit/test_a.py", True),
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/x/y/a.py", True),
        ("src/*.py", "src/x/a.py", False),  # * never crosses /
        ("src/?.py", "src/a.py", True),
        ("src/?.py", "src/ab.py", False),
        ("src/?.py", "src//.py", False),
        ("*.md", "README.md", True),  # no slash: basename at any depth
        ("*.md", "docs/deep/page.md", True),
        ("*.md", "docs/page.mdx", False),
        ("*.lock", "poetry.lock", True),
        ("uv.lock", "sub/uv.lock", True),
        (".github/workflows/**", ".github/workflows/ci.yml", True),
        (".github/workflows/**", ".github/ISSUE_TEMPLATE/bug.yml", False),
        ("./docs/**", "docs/a.md", True),
        ("docs/", "docs/a/b.md", True),  # trailing slash: everything below
        ("requirements*.txt", "requirements-dev.txt", True),
        ("file[0-9].txt", "file7.txt", True),
        ("file[!0-9].txt", "file7.txt", False),
        ("file[!0-9].txt", "filex.txt", True),
        ("a+b(c).py", "a+b(c).py", True),  # regex metacharacters are literal
        ("a+b(c).py", "aab(c).py", False),
        ("[unclosed", "[unclosed", True),
        ("**", "any/thing/at/all", True),
        (".*", ".gitignore", True),  # dotfiles are files like any other
        ("**/__snapshots__/**", "web/__snapshots__/a.snap", True),
    ],
)
def test_match(pattern: str, path: str, expected: bool) -> None:
    assert match(pattern, path) is expected


def test_match_any() -> None:
    assert match_any(["docs/**", "*.md"], "README.md")
    assert not match_any(["docs/**", "*.md"], "src/a.py")
    assert not match_any([], "src/a.py")
