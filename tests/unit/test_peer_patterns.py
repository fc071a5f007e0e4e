"""The README's table of other tools' default patterns and their RE2 forms holds: every form
compiles with `steward.patterns` and, searched in a subject line the way steward does, finds
a match exactly where the tool's own pattern does under Python's `re`, applied the way that
tool applies it (python-semantic-release and commitizen match at the start of the message,
git-cliff searches with Rust's regex, which reads these patterns as `re` does).

The originals were read from the tools themselves: python-semantic-release's documented
recommended `exclude_commit_patterns` (docs/concepts/getting_started.rst), the `cliff.toml`
that `git-cliff --init` writes, and `commitizen.defaults.BUMP_PATTERN`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.patterns import compile_user_pattern

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_CODE = re.compile(r"`([^`]*)`")


def table_rows() -> list[tuple[str, str, str]]:
    """(tool, its pattern, RE2 form) for each row of the table under **Patterns from other
    tools.**; an empty tool cell continues the tool above."""
    start = README.index("**Patterns from other tools.**")
    lines = README[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| Tool"))
    rows: list[tuple[str, str, str]] = []
    tool = ""
    for line in lines[first + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in _CELL_SPLIT.split(line)[1:-1]]
        assert len(cells) == 3, line
        tool = cells[0] or tool
        original, form = (_CODE.fullmatch(c) for c in cells[1:])
        assert original is not None, line
        assert form is not None, line
        rows.append(
            (tool, original.group(1).replace(r"\|", "|"), form.group(1).replace(r"\|", "|"))
        )
    return rows


ROWS = table_rows()


def applies(tool: str) -> str:
    if tool.startswith("python-semantic-release") or tool.startswith("commitizen"):
        return "match"
    assert tool.startswith("git-cliff"), tool
    return "search"


def test_the_table_covers_the_peers() -> None:
    tools = [t.split()[0] for t, _, _ in ROWS]
    assert tools.count("python-semantic-release") == 7
    assert tools.count("git-cliff") == 4
    assert tools.count("commitizen") == 1
    assert r"build\((?!deps\): .+)" in [o for _, o, _ in ROWS]


@pytest.mark.parametrize(("tool", "original", "form"), ROWS, ids=[o for _, o, _ in ROWS])
def test_each_form_compiles_where_needed(tool: str, original: str, form: str) -> None:
    compile_user_pattern(form, what="changelog.exclude[0]")
    if "(?!" in original:  # the reason for the table: RE2 refuses the original
        with pytest.raises(ValueError, match="a negative lookahead"):
            compile_user_pattern(original, what="changelog.exclude[0]")


# Subjects as people and bots write them, and their near misses.
SUBJECTS = [
    "chore: tidy",
    "chore(deps): bump x",
    "chore(deps-dev): bump y",
    "chore(release): prepare for v1.2.0",
    "chore(release): v1.2.0",
    "chore(pr): template",
    "chore(pull): x",
    "chore():",
    "chore(a)(b): x",
    "chore: ",
    "chores: x",
    "ci: new runner",
    "ci(gh): x",
    "refactor(api)!: split",
    "style: fmt",
    "test: more",
    "tests: more",
    "build: backend",
    "build(deps): bump x",
    "build(deps): ",
    "build(deps)",
    "build(deps-dev): bump y",
    "build(docker): image",
    "build(): x",
    "Initial commit",
    "Initial Commit of x",
    "initial commit",
    "feat: x",
    "feat(api)!: x",
    "fix(api,cli): y",
    "BREAKING CHANGE: gone",
    "BREAKING-CHANGE: gone",
    "féat: unicode type",
    "修复: 中文",
    "v٣: arabic-indic digit",
    "x²: superscript",
    "Merge pull request #3 from a/b",
    "",
]

_PREFIXES = st.sampled_from(
    [
        "",
        "chore",
        "chore(",
        "ci(",
        "build(",
        "build(deps",
        "build(deps): ",
        "Initial ",
        "BREAKING",
        "feat",
        "test",
    ]
)
_CHARS = st.sampled_from(list("()[]:!-_ .\\deps ciochrbuildCIB\n\té中٣²")) | st.characters(
    codec="utf-8", exclude_categories=["Cn", "Cs"]
)
_SUBJECT = st.builds(str.__add__, _PREFIXES, st.text(alphabet=_CHARS, max_size=16))


def agree(tool: str, original: str, form: str, subject: str) -> None:
    theirs = getattr(re, applies(tool))(original, subject) is not None
    ours = compile_user_pattern(form, what="changelog.exclude[0]").matches(subject)
    assert ours is theirs, (original, subject)


@pytest.mark.parametrize(("tool", "original", "form"), ROWS, ids=[o for _, o, _ in ROWS])
def test_each_form_agrees_on_real_subjects(tool: str, original: str, form: str) -> None:
    for subject in SUBJECTS:
        agree(tool, original, form, subject)


@settings(max_examples=600, deadline=None)
@given(subject=_SUBJECT)
def test_every_form_agrees_on_generated_subjects(subject: str) -> None:
    for tool, original, form in ROWS:
        agree(tool, original, form, subject)
