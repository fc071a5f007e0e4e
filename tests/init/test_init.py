"""`steward init`: the files, the config steward itself loads, the PR template the policies
read, the issue forms' labels, and writing (dry run, never overwriting without --force)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from steward.cli.init_cmd import init
from steward.config.loader import load_config, parse_config
from steward.config.model import StewardConfig
from steward.errors import UsageError
from steward.init import LAYOUT, InitOptions, detect_branch, plan_files, write_files
from steward.plan import Plan
from steward.policies import acknowledgement, related_issue
from tests.init.conftest import git
from tests.unit._payloads import added, context, pr_event

PATHS = [
    ".github/steward.yml",
    ".github/workflows/steward-automation.yml",
    ".github/workflows/steward-sweep.yml",
    ".github/workflows/release.yml",
    ".github/workflows/pre-release.yml",
    ".github/workflows/rebuild-latest-docs.yml",
    ".github/workflows/run-e2e-tests.yml",
    ".github/PULL_REQUEST_TEMPLATE.md",
    ".github/ISSUE_TEMPLATE/bug_report.yml",
    ".github/ISSUE_TEMPLATE/feature_request.yml",
    ".github/ISSUE_TEMPLATE/rfc.yml",
    ".github/ISSUE_TEMPLATE/static_typing.yml",
    ".github/ISSUE_TEMPLATE/documentation_improvements.yml",
    ".github/ISSUE_TEMPLATE/config.yml",
]


def test_plan_files_is_pure_and_lists_every_file() -> None:
    first = plan_files(InitOptions())
    assert [f.path for f in first] == PATHS == [p for p, _, _ in LAYOUT]
    assert plan_files(InitOptions()) == first
    for f in first:
        assert f.content.endswith("\n")
        assert not f.content.endswith("\n\n")
        assert "[[" not in f.content  # every template value was filled
        assert all(line == line.rstrip() for line in f.content.splitlines()), f.path


# -- .github/steward.yml ---------------------------------------------------------------------


def test_the_written_config_loads_with_stewards_own_loader(initialised: Path) -> None:
    config = load_config(initialised / ".github" / "steward.yml")

    assert config.changelog.body_entries is True
    assert StewardConfig().changelog.body_entries is False  # the schema default stays off
    assert config.release.base_branch == "main"
    expected = StewardConfig().effective()
    expected["changelog"]["body_entries"] = True
    expected["release"]["base_branch"] = "main"
    assert config.effective() == expected


def uncomment(text: str) -> str:
    """Every commented setting (one "# "; prose has "##") made live."""
    return re.sub(r"^(\s*)# ", r"\1", text, flags=re.MULTILINE)


@pytest.mark.parametrize("branch", ["develop", "main"])
def test_the_commented_values_are_the_defaults(branch: str) -> None:
    (config,) = [f for f in plan_files(InitOptions(branch=branch)) if f.path.endswith("d.yml")]
    live = uncomment(config.content)
    assert live.count("\n") == config.content.count("\n")
    assert "\n# " not in live

    parsed = parse_config(live, source="uncommented")

    expected = StewardConfig().effective()
    expected["changelog"]["body_entries"] = True
    expected["release"]["base_branch"] = branch
    assert parsed.effective() == expected
    shown = yaml.safe_load(live)
    assert {"semantic_title", "merge_gate", "sweep", "version", "release"} <= set(shown)


# -- the PR template and the issue forms -----------------------------------------------------


def template_body(root: Path) -> str:
    return (root / ".github" / "PULL_REQUEST_TEMPLATE.md").read_text(encoding="utf-8")


def policies_on(body: str) -> Plan:
    ctx = context(pr_event("opened", body=body))
    return Plan.merge([related_issue.evaluate(ctx), acknowledgement.evaluate(ctx)])


def test_the_unfilled_pr_template_asks_for_an_issue_and_keeps_the_acknowledgement(
    initialised: Path,
) -> None:
    body = template_body(initialised)
    assert "**Issue number:**" in body
    assert StewardConfig().acknowledgement.required_text in body

    assert added(policies_on(body)) == {"do-not-merge", "need-issue"}


@pytest.mark.parametrize(
    "filled", ["#12", "12", "https://github.com/Codertocat/Hello-World/issues/12"]
)
def test_a_filled_pr_template_passes_both_policies(initialised: Path, filled: str) -> None:
    body = template_body(initialised).replace("**Issue number:**", f"**Issue number:** {filled}")
    assert policies_on(body).actions == []


def test_removing_the_acknowledgement_is_caught(initialised: Path) -> None:
    body = template_body(initialised).replace("**Issue number:**", "**Issue number:** #12")
    body = body.split("## Acknowledgment")[0]
    assert added(policies_on(body)) == {"do-not-merge", "need-acknowledgment"}


def test_issue_forms_carry_the_playbooks_labels(initialised: Path) -> None:
    forms = initialised / ".github" / "ISSUE_TEMPLATE"
    labels = {
        p.name: yaml.safe_load(p.read_text())["labels"]
        for p in sorted(forms.glob("*.yml"))
        if p.name != "config.yml"
    }
    assert labels == {
        "bug_report.yml": ["bug", "triage"],
        "documentation_improvements.yml": ["documentation", "triage"],
        "feature_request.yml": ["feature-request", "triage"],
        "rfc.yml": ["RFC", "triage"],
        "static_typing.yml": ["typing", "triage"],
    }
    taxonomy = StewardConfig().label_names()
    assert {label for ls in labels.values() for label in ls} <= taxonomy


# -- writing ---------------------------------------------------------------------------------


def test_dry_run_lists_and_writes_nothing(tmp_path: Path) -> None:
    written = write_files(tmp_path, plan_files(InitOptions()), dry_run=True)
    assert [(w.path, w.action) for w in written] == [(p, "create") for p in PATHS]
    assert list(tmp_path.iterdir()) == []


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    files = plan_files(InitOptions())
    template = tmp_path / ".github" / "PULL_REQUEST_TEMPLATE.md"
    template.parent.mkdir()
    template.write_text("our own template\n")
    os.chmod(template, 0o600)

    written = {w.path: w.action for w in write_files(tmp_path, files)}
    assert written[".github/PULL_REQUEST_TEMPLATE.md"] == "keep"
    assert template.read_text() == "our own template\n"
    assert written[".github/steward.yml"] == "create"

    again = {w.path: w.action for w in write_files(tmp_path, files)}
    assert set(again.values()) == {"unchanged", "keep"}

    forced = {w.path: w.action for w in write_files(tmp_path, files, force=True)}
    assert forced[".github/PULL_REQUEST_TEMPLATE.md"] == "overwrite"
    assert forced[".github/steward.yml"] == "unchanged"
    assert "**Issue number:**" in template.read_text()
    assert template.stat().st_mode & 0o777 == 0o600  # a rewrite keeps the file's mode


def test_a_github_directory_pointing_outside_the_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".github").symlink_to(outside)
    with pytest.raises(UsageError, match="outside"):
        write_files(root, plan_files(InitOptions()))
    assert list(outside.iterdir()) == []


def test_options_are_checked() -> None:
    with pytest.raises(UsageError, match="branch name"):
        InitOptions(branch="main; rm -rf /")
    with pytest.raises(UsageError, match="--python"):
        InitOptions(python_version="python3")


# -- the command -----------------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(init, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_init_in_an_empty_repository_gives_files_to_commit_as_they_are(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "develop")

    code, out = invoke("--path", str(root), "--json")

    assert code == 0, out
    data = json.loads(out)
    assert data["branch"] == "develop"  # the branch checked out
    assert [(f["path"], f["action"]) for f in data["files"]] == [(p, "create") for p in PATHS]
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "chore(ci): steward init")
    assert git(root, "status", "--porcelain") == ""
    assert sorted(git(root, "ls-files").splitlines()) == sorted(PATHS)
    assert load_config(root / ".github" / "steward.yml").release.base_branch == "develop"

    code, out = invoke("--path", str(root))
    assert code == 0, out
    assert out.count("unchanged") == len(PATHS)
    assert "next:" not in out


def test_init_dry_run_lists_the_files(tmp_path: Path) -> None:
    code, out = invoke("--path", str(tmp_path), "--dry-run")
    assert code == 0, out
    assert "would create    .github/workflows/release.yml" in out
    assert out.rstrip().endswith("dry run: nothing was written")
    assert list(tmp_path.iterdir()) == []

    code, out = invoke("--path", str(tmp_path), "--dry-run", "--json")
    data = json.loads(out)
    assert data["dry_run"] is True
    assert data["branch"] == "main"  # not a git repository: the default


def test_init_reports_kept_files(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "steward.yml").write_text("size:\n  enabled: false\n")
    result = CliRunner().invoke(init, ["--path", str(tmp_path), "--branch", "main"])
    assert result.exit_code == 0, result.output
    assert "kept            .github/steward.yml" in result.output
    assert "1 file(s) exist with other content and were kept" in result.output
    assert (tmp_path / ".github" / "steward.yml").read_text() == "size:\n  enabled: false\n"


def test_detect_branch(tmp_path: Path) -> None:
    assert detect_branch(tmp_path) is None
    git(tmp_path, "init", "-q", "-b", "trunk")
    assert detect_branch(tmp_path) == "trunk"


def test_init_reads_the_repositorys_config_for_aws_and_takes_the_token_opt_out(
    tmp_path: Path,
) -> None:
    from .test_zizmor import LAYER_AND_SAR

    (tmp_path / ".github").mkdir()
    config = tmp_path / ".github" / "steward.yml"
    config.write_text(yaml.safe_dump(LAYER_AND_SAR), encoding="utf-8")
    code, out = invoke("--path", str(tmp_path), "--branch", "main", "--pypi-token")
    assert code == 0, out
    assert "AWS_RELEASE_ROLE_ARN" in out
    assert "PyPI: the PYPI_API_TOKEN secret" in out
    release = (tmp_path / ".github" / "workflows" / "release.yml").read_text()
    assert "role-to-assume: ${{ vars.AWS_RELEASE_ROLE_ARN }}" in release
    assert "aws-region: ${{ vars.AWS_REGION || 'eu-west-1' }}" in release
    assert "TWINE_PASSWORD: ${{ secrets.PYPI_API_TOKEN }}" in release

    other = tmp_path / "other"  # no config: no AWS, and PyPI through Trusted Publishing
    other.mkdir()
    code, out = invoke("--path", str(other), "--branch", "main")
    assert code == 0, out
    assert "AWS_RELEASE_ROLE_ARN" not in out
    assert "PyPI: register release.yml and pre-release.yml as trusted publishers" in out
    assert "secrets.PYPI_API_TOKEN" not in (other / ".github/workflows/release.yml").read_text()
