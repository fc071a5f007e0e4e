"""`steward version` and `steward changelog` load the release sections alone (start-up time),
and still refuse what the whole model refuses in them, with file and line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from steward.config.loader import known_keys, load_config, load_release_config, parse_config
from steward.config.model import config_model
from steward.config.release import OTHER_CORE_KEYS, RELEASE_KEYS
from steward.errors import ConfigError
from steward.policies.registry import policies
from tests.release.gitrepo import Repo, run


def test_the_known_keys_are_the_whole_models_keys() -> None:
    assert known_keys() == frozenset(config_model().model_fields)
    assert RELEASE_KEYS | OTHER_CORE_KEYS | {p.name for p in policies()} == known_keys()


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("version:\n  tag_pattern: v1\n", 2, "version.tag_pattern"),
        ("size:\n  enabled: true\nchangelog:\n  nope: 1\n", 4, "changelog.nope"),
        ("chanelog:\n  template: x\n", 1, "chanelog"),
        ("packages:\n  - name: a\n    paths: [a]\n  - name: a\n    paths: [b]\n", 1, "packages"),
    ],
)
def test_release_sections_fail_as_the_whole_model_does(
    tmp_path: Path, text: str, line: int, key: str
) -> None:
    path = tmp_path / "steward.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as whole:
        load_config(path)
    with pytest.raises(ConfigError) as release:
        load_release_config(path)
    assert release.value.line == whole.value.line == line
    assert str(release.value).startswith(f"{path}:{line}: {key}")


def test_the_release_sections_equal_the_whole_models(tmp_path: Path) -> None:
    path = tmp_path / "steward.yml"
    path.write_text("version:\n  minor_types: [feat, improv]\nsize:\n  enabled: false\n")
    whole, release = load_config(path), load_release_config(path)
    for key in RELEASE_KEYS:
        assert getattr(release, key) == getattr(whole, key)


def test_a_misspelt_section_stops_a_release_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: one")
    (r.path / ".github").mkdir()
    (r.path / ".github" / "steward.yml").write_text("chanelog:\n  template: keepachangelog\n")
    code, _out, err = run(["changelog", "--path", str(r.path)], capsys)
    assert code == 2
    assert "steward.yml:1: chanelog: unknown key" in err


def test_version_and_changelog_start_without_the_policies(tmp_path: Path) -> None:
    """Importing the commands (as `steward changelog` does) loads no policy module and
    not the whole config model."""
    code = (
        "import sys, steward.cli.changelog_cmd, steward.cli.version_cmd\n"
        "bad = [m for m in sys.modules if m.startswith(('steward.policies.', "
        "'steward.config.model', 'steward.pipeline'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_release_command_with_no_config_file_does_not_import_pydantic(tmp_path: Path) -> None:
    """The release sections are dataclasses: with no file their defaults are used as they
    are, and pydantic (a third of `steward changelog`'s start-up) is never imported."""
    r = Repo(tmp_path / "r")
    r.commit("feat: one")
    code = (
        "import sys, contextlib, io\n"
        "from steward.cli.main import main\n"
        f"for argv in (['changelog', '--no-cache'], ['version', 'next']):\n"
        f"    sys.argv = ['steward', *argv, '--path', {str(r.path)!r}]\n"
        "    try:\n"
        "        with contextlib.redirect_stdout(io.StringIO()):\n"
        "            main()\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_release_defaults_are_what_validating_an_empty_file_gives() -> None:
    """Defaults are not validated when no file is read: they must be what validation of an
    empty section, and of the defaults themselves, gives."""
    from dataclasses import asdict

    from pydantic import TypeAdapter

    from steward.config.release import ReleaseSections

    adapter = TypeAdapter(ReleaseSections)
    assert adapter.validate_python({}) == ReleaseSections()
    assert adapter.validate_python(asdict(ReleaseSections())) == ReleaseSections()
    assert parse_config("").version == ReleaseSections().version
