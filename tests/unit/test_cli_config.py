"""`steward config check|show|schema` through the real entry point (exit codes included)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from steward.cli.main import main
from steward.config.loader import parse_config
from steward.config.model import StewardConfig


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_ok_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = repo / "steward.yml"
    f.write_text("size:\n  enabled: false\n")
    assert run(["config", "check", str(f)], capsys) == (0, f"{f}: ok\n", "")


def test_check_finds_the_repository_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["config", "check"], capsys)
    assert code == 0
    assert "defaults" in out
    (repo / ".github").mkdir()
    (repo / ".github" / "steward.yml").write_text("triage:\n  bogus: 1\n")
    code, out, err = run(["config", "check"], capsys)
    assert code == 2
    assert err == "error: .github/steward.yml:2: triage.bogus: unknown key\n"


def test_check_errors_are_one_line_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = repo / "bad.yml"
    bad.write_text("labels:\n  - name: x\n    color: red\n")
    code, out, err = run(["config", "check", str(bad)], capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert err.startswith(f"error: {bad}:3: labels.0.color:")
    code, _, err = run(["config", "check", str(repo / "missing.yml")], capsys)
    assert code == 2
    assert "not found" in err
    broken = repo / "broken.yml"
    broken.write_text("size: [\n")
    code, _, err = run(["config", "check", str(broken)], capsys)
    assert code == 2
    assert "invalid YAML" in err
    assert err.count("\n") == 1


def test_show_prints_the_effective_config(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["config", "show"], capsys)
    assert code == 0
    shown = yaml.safe_load(out)
    assert shown["size"]["bands"] == {"XS": 0, "S": 10, "M": 30, "L": 100, "XL": 500, "XXL": 1000}
    assert parse_config(out) == StewardConfig()  # what `show` prints, `check` accepts

    f = repo / "custom.yml"
    f.write_text("pending_release:\n  maintainers_team: '@org/team'\n")
    code, out, _ = run(["config", "show", "--config", str(f), "--json"], capsys)
    data = json.loads(out)
    assert data["pending_release"]["maintainers_team"] == "@org/team"
    assert data["triage"]["label"] == "triage"  # defaults fill the rest


def test_show_with_a_bad_file_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = repo / "bad.yml"
    f.write_text("nonsense: 1\n")
    code, _, err = run(["config", "show", "--config", str(f)], capsys)
    assert code == 2
    assert f"{f}:1: nonsense: unknown key" in err


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["config", "schema"], capsys)
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert jsonschema.Draft202012Validator(schema).is_valid({"size": {"ignore": ["*.lock"]}})


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["config", "--help"], capsys)
    assert code == 0
    for sub in ("check", "show", "schema"):
        assert sub in out
    code, out, _ = run(["config", "check", "--help"], capsys)
    assert code == 0
    assert "line and key" in " ".join(out.split())


def test_check_warns_about_labels_missing_from_the_taxonomy(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = repo / "steward.yml"
    f.write_text(
        "size:\n  prefix: 'lines/'\nsemantic_title:\n  scope_labels: {deps: dependencies}\n"
    )
    code, out, err = run(["config", "check", str(f)], capsys)
    assert code == 0
    assert out == f"{f}: ok\n"
    warned = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 6  # lines/XS .. lines/XXL; `dependencies` is in the taxonomy
    assert "'lines/XXL'" in err


def test_check_json_names_the_policy_of_each_unlisted_label(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = repo / "steward.yml"
    f.write_text("triage:\n  label: needs-triage\n")
    code, out, err = run(["config", "check", "--config", str(f), "--json"], capsys)
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "file": str(f),
        "ok": True,
        "warnings": [{"label": "needs-triage", "policy": "triage"}],
    }
    code, _, err = run(["config", "check", str(f), "--config", str(f)], capsys)
    assert code == 2
    assert "give the file once" in err


def test_check_looks_in_path(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = repo / "other"
    (other / ".github").mkdir(parents=True)
    (other / ".github" / "steward.yml").write_text("size:\n  enabled: false\n")
    code, out, _ = run(["config", "check", "--path", str(other)], capsys)
    assert code == 0
    assert out == f"{other / '.github' / 'steward.yml'}: ok\n"
    code, out, _ = run(["config", "show", "--path", str(other), "--json"], capsys)
    assert json.loads(out)["size"]["enabled"] is False
