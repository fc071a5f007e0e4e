"""`steward e2e migrate`: Powertools' import lines, and nothing else, point at the compat layer."""

from __future__ import annotations

import importlib
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from steward.cli.e2e_cmd import e2e
from steward.e2e.migrate import (
    COMPAT_MODULES,
    MigrateError,
    markdown_table,
    rewrite_bytes,
    rewrite_source,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "powertools_e2e"
OLD_IMPORT = re.compile(rb"^\s*(from|import)\s+tests\.e2e\.utils\b", re.MULTILINE)


def _fixture_files() -> list[Path]:
    return sorted(FIXTURE.rglob("*.py"))


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: p.relative_to(FIXTURE).as_posix())
def test_real_powertools_files_change_only_on_their_utils_imports(path: Path) -> None:
    data = path.read_bytes()
    result = rewrite_bytes(data)
    assert OLD_IMPORT.search(result.data) is None
    old_lines = data.splitlines(keepends=True)
    new_lines = result.data.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    changed = {edit.line for edit in result.edits}
    for number, (old, new) in enumerate(zip(old_lines, new_lines, strict=True), start=1):
        if number in changed:
            assert old.replace(b"tests.e2e.utils", b"steward.e2e.compat") == new
        else:
            assert old == new, f"line {number} changed"
    assert result.changed == bool(OLD_IMPORT.search(data))
    assert rewrite_bytes(result.data).changed is False  # idempotent


def test_the_fixture_tree_has_the_imports_we_expect() -> None:
    edits = [e for p in _fixture_files() for e in rewrite_bytes(p.read_bytes()).edits]
    assert {e.old for e in edits} == {
        "tests.e2e.utils",
        "tests.e2e.utils.infrastructure",
        "tests.e2e.utils.lambda_layer.powertools_layer",
        "tests.e2e.utils.data_fetcher.common",
        "tests.e2e.utils.data_builder",
    }


def test_every_compat_module_exists_and_every_table_row_maps_one() -> None:
    for row in COMPAT_MODULES:
        assert row.powertools.startswith("tests.e2e.utils")
        assert row.compat == row.powertools.replace("tests.e2e.utils", "steward.e2e.compat", 1)
        importlib.import_module(row.compat)


def test_the_docs_show_the_table() -> None:
    docs = (ROOT / "docs" / "e2e.md").read_text(encoding="utf-8")
    section = docs.split("## Coming from Powertools' tests/e2e", 1)[1]
    assert markdown_table() in section


MULTI = """\
import os
from tests.e2e.utils.data_fetcher.common import (  # keep this comment
    GetLambdaResponseOptions,
    get_lambda_response_in_parallel,
)
import tests.e2e.utils.data_builder as builders, json
import tests.e2e.utils.constants
x = "from tests.e2e.utils import data_fetcher"  # a string: untouched


def f():
    from tests.e2e.utils import data_fetcher  # nested imports count

    return data_fetcher
"""


def test_multi_line_aliased_nested_imports_are_rewritten_and_the_rest_kept() -> None:
    text, edits, unmapped = rewrite_source(MULTI)
    expected = MULTI.replace("tests.e2e.utils", "steward.e2e.compat").replace(
        '"from steward.e2e.compat import',
        '"from tests.e2e.utils import',  # the string stays
    )
    assert text == expected
    assert [(e.line, e.bare) for e in edits] == [(2, False), (6, False), (7, True), (12, False)]
    assert unmapped == []
    assert rewrite_source(text)[1] == []


def test_line_endings_bom_and_a_latin1_cookie_survive_byte_for_byte() -> None:
    crlf = b"\xef\xbb\xbfimport os\r\nfrom tests.e2e.utils import (\r\n    data_fetcher,\r\n)\r\n"
    result = rewrite_bytes(crlf)
    assert result.data == crlf.replace(b"tests.e2e.utils", b"steward.e2e.compat")
    latin = b"# -*- coding: latin-1 -*-\nfrom tests.e2e.utils import data_fetcher\ns = '\xe9'\n"
    result = rewrite_bytes(latin)
    assert result.encoding == "iso-8859-1"
    assert result.data == latin.replace(b"tests.e2e.utils", b"steward.e2e.compat")
    assert "+from steward.e2e.compat import data_fetcher" in result.diff("t.py")


def test_unknown_utils_modules_and_relative_imports_are_left_alone() -> None:
    source = "from tests.e2e.utils.nope import x\nfrom .utils import y\nimport tests.e2e\n"
    text, edits, unmapped = rewrite_source(source)
    assert text == source
    assert edits == []
    assert [(u.line, u.old) for u in unmapped] == [(1, "tests.e2e.utils.nope")]


def test_a_file_that_does_not_parse_is_an_error_for_that_file_only() -> None:
    with pytest.raises(MigrateError, match=r"not valid Python \(line 1\)"):
        rewrite_bytes(b"from tests.e2e.utils import (\n")


# ---- the command ----


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "powertools"
    shutil.copytree(FIXTURE, copy)
    (copy / "tests" / "e2e" / "broken.py").write_bytes(b"from tests.e2e.utils import (\n")
    monkeypatch.chdir(tmp_path)
    return copy


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def test_dry_run_prints_diffs_and_writes_nothing(suite: Path) -> None:
    before = _snapshot(suite)
    result = CliRunner().invoke(e2e, ["migrate", str(suite)])
    assert result.exit_code == 0, result.output
    assert _snapshot(suite) == before
    out = result.stdout
    assert out.count("--- a/") == 6
    assert "+from steward.e2e.compat import data_fetcher" in out
    assert "would rewrite 9 import(s) in 6 file(s)" in out
    assert "1 skipped" in out
    assert "broken.py: not valid Python" in result.stderr
    assert "run again with --write to apply" in out


def test_write_rewrites_then_a_second_run_has_nothing_to_do(suite: Path) -> None:
    before = _snapshot(suite)
    result = CliRunner().invoke(e2e, ["migrate", str(suite), "--write"])
    assert result.exit_code == 0, result.output
    after = _snapshot(suite)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {
        "tests/e2e/conftest.py",
        "tests/e2e/idempotency/infrastructure.py",
        "tests/e2e/idempotency/test_idempotency_dynamodb.py",
        "tests/e2e/parameters/infrastructure.py",
        "tests/e2e/parameters/test_appconfig.py",
        "tests/e2e/parameters/test_ssm.py",
    }
    for name in changed:
        assert after[name] == before[name].replace(b"tests.e2e.utils", b"steward.e2e.compat")
    assert "rewrote 9 import(s) in 6 file(s)" in result.stdout

    again = CliRunner().invoke(e2e, ["migrate", str(suite), "--write"])
    assert again.exit_code == 0
    assert "nothing to rewrite" in again.stdout
    assert _snapshot(suite) == after


def test_json_and_a_single_file(suite: Path) -> None:
    target = suite / "tests" / "e2e" / "conftest.py"
    result = CliRunner().invoke(e2e, ["migrate", str(target), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["write"] is False
    assert report["skipped"] == []
    (entry,) = report["files"]
    assert entry["path"] == str(target)
    assert [i["new"] for i in entry["imports"]] == [
        "steward.e2e.compat.infrastructure",
        "steward.e2e.compat.lambda_layer.powertools_layer",
    ]


def test_help_explains_the_rewrite() -> None:
    result = CliRunner().invoke(e2e, ["migrate", "--help"])
    assert result.exit_code == 0
    assert "tests.e2e.utils" in result.output
    assert "--write" in result.output
