"""Every generated workflow is valid for GitHub (check-jsonschema's vendored schema) and
passes actionlint, and holds what the playbook asks of it: triggers, minimal permissions,
fork safety, concurrency, steward pinned from PyPI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from steward import __version__
from steward.init import InitOptions, plan_files

WORKFLOWS = ".github/workflows"
FORMS = ".github/ISSUE_TEMPLATE"


def load(root: Path, rel: str) -> dict[Any, Any]:
    data = yaml.safe_load((root / rel).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def on(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` table (PyYAML reads the bare key `on` as the boolean True)."""
    triggers = workflow[True]
    assert isinstance(triggers, dict)
    return triggers


def workflow_files(root: Path) -> list[Path]:
    return sorted((root / WORKFLOWS).glob("*.yml"))


def check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_workflow_validates_against_the_github_workflow_schema(initialised: Path) -> None:
    files = workflow_files(initialised)
    assert [f.name for f in files] == [
        "pre-release.yml",
        "rebuild-latest-docs.yml",
        "release.yml",
        "run-e2e-tests.yml",
        "steward-automation.yml",
        "steward-sweep.yml",
    ]
    result = check_jsonschema("vendor.github-workflows", files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert check_jsonschema("vendor.github-workflows", [bad]).returncode == 1


def test_issue_forms_and_the_chooser_validate_against_their_schemas(initialised: Path) -> None:
    forms = sorted(p for p in (initialised / FORMS).glob("*.yml") if p.name != "config.yml")
    assert len(forms) == 5
    result = check_jsonschema("vendor.github-issue-forms", forms)
    assert result.returncode == 0, result.stdout + result.stderr
    result = check_jsonschema("vendor.github-issue-config", [initialised / FORMS / "config.yml"])
    assert result.returncode == 0, result.stdout + result.stderr


def run_actionlint(actionlint: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(actionlint), f"{root / WORKFLOWS}/*.yml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
    )


def test_every_workflow_passes_actionlint(initialised: Path, actionlint: Path) -> None:
    result = run_actionlint(actionlint, initialised)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Checking 6 workflow file(s)" in result.stdout


def test_actionlint_catches_a_wrong_action_input(initialised: Path, actionlint: Path) -> None:
    release = initialised / WORKFLOWS / "release.yml"
    release.write_text(release.read_text().replace("fetch-depth: 0", "fetch-dept: 0"))
    result = run_actionlint(actionlint, initialised)
    assert result.returncode == 1
    assert 'input "fetch-dept" is not defined in action "actions/checkout@v4"' in result.stdout


# -- what each workflow must hold ------------------------------------------------------------


def test_every_workflow_has_minimal_permissions_concurrency_and_pinned_tools(
    initialised: Path,
) -> None:
    for path in workflow_files(initialised):
        wf = load(initialised, f"{WORKFLOWS}/{path.name}")
        assert wf["permissions"] == {}, path.name  # nothing by default, granted per job
        assert wf["concurrency"]["cancel-in-progress"] is False, path.name
        assert wf["concurrency"]["group"], path.name
        for name, job in wf["jobs"].items():
            assert isinstance(job["permissions"], dict), (path.name, name)
            assert "write-all" not in str(job["permissions"])
            assert job["timeout-minutes"] > 0
            for step in job["steps"]:
                if "uses" in step:
                    assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", step["uses"]), step["uses"]
                run = step.get("run", "")
                if "pip install" in run and "repo-steward" in run:
                    assert re.search(rf'"repo-steward(\[[a-z0-9,]+\])?=={__version__}"', run), run
                assert "${{" not in run, (path.name, run)  # values reach scripts via env


def test_automation_is_fork_safe_and_covers_what_the_policies_handle(initialised: Path) -> None:
    text = (initialised / WORKFLOWS / "steward-automation.yml").read_text()
    assert "Why `pull_request_target` and not `pull_request`" in text
    wf = load(initialised, f"{WORKFLOWS}/steward-automation.yml")
    triggers = on(wf)
    assert "pull_request" not in triggers
    assert triggers["merge_group"] == {"types": ["checks_requested"]}
    handle = wf["jobs"]["handle"]
    assert handle["permissions"] == {
        "contents": "read",
        "issues": "write",
        "pull-requests": "write",
        "statuses": "write",
    }
    (checkout,) = [s for s in handle["steps"] if s.get("uses", "").startswith("actions/checkout")]
    assert checkout["with"] == {
        "ref": "${{ github.event.repository.default_branch }}",
        "sparse-checkout": ".github/steward.yml",
        "sparse-checkout-cone-mode": False,
        "persist-credentials": False,
    }
    assert "pull_request.head" not in str(handle["steps"])
    assert handle["steps"][-1]["run"] == "steward handle"

    from steward.policies.registry import policies

    wanted: dict[str, set[str]] = {}
    for policy in policies():
        for event, actions in policy.events.items():
            wanted.setdefault(event, set()).update(actions)
    assert wanted.pop("pull_request") <= set(triggers["pull_request_target"]["types"])
    for event, actions in wanted.items():
        assert actions <= set(triggers[event]["types"]), event

    # The merge queue's job runs steward on the merge group (it judged the queued pull
    # request's statuses itself), never a blind "success".
    queue = wf["jobs"]["merge-queue"]
    assert queue["if"] == "github.event_name == 'merge_group'"
    assert queue["permissions"] == {
        "contents": "read",
        "pull-requests": "read",
        "statuses": "write",
    }
    (queue_checkout,) = [
        s for s in queue["steps"] if s.get("uses", "").startswith("actions/checkout")
    ]
    assert queue_checkout["with"] == checkout["with"]
    assert queue["steps"][-1]["run"] == "steward handle"
    assert queue["steps"][-1]["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}
    assert "state=success" not in text
    assert "gh api" not in text
    assert "Make steward/semantic-title and steward/do-not-merge\n" in text


def test_sweep_runs_daily(initialised: Path) -> None:
    wf = load(initialised, f"{WORKFLOWS}/steward-sweep.yml")
    (schedule,) = on(wf)["schedule"]
    minute, hour, *rest = schedule["cron"].split()
    assert rest == ["*", "*", "*"]
    assert minute.isdigit()
    assert hour.isdigit()
    assert 'steward sweep --repo "${GITHUB_REPOSITORY}"' in str(wf["jobs"]["sweep"]["steps"])


def test_release_is_dispatched_with_a_version_on_the_full_history(initialised: Path) -> None:
    wf = load(initialised, f"{WORKFLOWS}/release.yml")
    assert on(wf) == {
        "workflow_dispatch": {
            "inputs": {
                "version": {
                    "description": "Version to release, e.g. 1.4.0 (steward version next)",
                    "required": True,
                    "type": "string",
                }
            }
        }
    }
    job = wf["jobs"]["release"]
    assert job["steps"][0]["with"] == {"fetch-depth": 0}
    (run,) = [s for s in job["steps"] if s.get("name") == "Release"]
    assert run["run"] == 'steward release run --version "${VERSION}"'
    assert run["env"]["VERSION"] == "${{ inputs.version }}"
    assert job["permissions"] == {
        "contents": "write",
        "issues": "write",
        "pull-requests": "write",
    }


def test_alpha_pre_release_runs_on_weekday_mornings(initialised: Path) -> None:
    wf = load(initialised, f"{WORKFLOWS}/pre-release.yml")
    assert on(wf)["schedule"] == [{"cron": "0 8 * * 1-5"}]
    assert "workflow_dispatch" in on(wf)
    job = wf["jobs"]["pre-release"]
    assert job["steps"][0]["with"] == {"fetch-depth": 0}
    steps = {s.get("name"): s for s in job["steps"]}
    assert "steward version next --prerelease a --json" in steps["Next alpha version"]["run"]
    assert steps["Pre-release"]["run"] == (
        'steward release run --version "${VERSION}" --prerelease'
    )
    release = load(initialised, f"{WORKFLOWS}/release.yml")
    assert wf["concurrency"]["group"] == release["concurrency"]["group"]


def test_docs_hotfix_and_e2e(initialised: Path) -> None:
    docs = load(initialised, f"{WORKFLOWS}/rebuild-latest-docs.yml")
    assert on(docs)["workflow_dispatch"]["inputs"]["version"]["required"] is True
    assert docs["jobs"]["docs"]["permissions"] == {"contents": "write"}
    assert 'steward docs rebuild --version "${VERSION}"' in str(docs["jobs"]["docs"]["steps"])
    e2e = load(initialised, f"{WORKFLOWS}/run-e2e-tests.yml")
    assert on(e2e) == {"push": {"branches": ["main"]}, "workflow_dispatch": {}}
    assert e2e["jobs"]["e2e"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert "python -m pytest tests/e2e --steward-e2e -n 4" in str(e2e["jobs"]["e2e"]["steps"])


@pytest.mark.parametrize("branch", ["develop", "release/v2"])
def test_the_trunk_reaches_the_e2e_trigger_and_the_release_config(
    tmp_path: Path, branch: str
) -> None:
    files = {f.path: f.content for f in plan_files(InitOptions(branch=branch))}
    e2e = yaml.safe_load(files[f"{WORKFLOWS}/run-e2e-tests.yml"])
    assert on(e2e)["push"]["branches"] == [branch]
    config = files[".github/steward.yml"]
    if branch == "develop":  # the default: shown commented
        assert "\n#   base_branch: develop\n" in config
    else:
        assert f"\nrelease:\n  base_branch: {branch}\n" in config


# -- steward's changelog cache (.git/steward) kept between runs --------------------------------

RELEASE_COMMAND = re.compile(r"(?:^|[\s;&|(])steward\s+(?:changelog|version|release)\b", re.M)
ANY_COMMAND = re.compile(r"(?:^|[\s;&|(])steward\s+[a-z]", re.M)
CONFIG_HASH = "hashFiles('.github/steward.yml')"


def test_jobs_running_release_commands_restore_the_changelog_cache_first(
    initialised: Path,
) -> None:
    found = []
    for path in workflow_files(initialised):
        wf = load(initialised, f"{WORKFLOWS}/{path.name}")
        for name, job in wf["jobs"].items():
            steps = job["steps"]
            if not any(RELEASE_COMMAND.search(s.get("run", "")) for s in steps):
                continue
            found.append((path.name, name))
            first_steward = next(
                i for i, s in enumerate(steps) if ANY_COMMAND.search(s.get("run", ""))
            )
            caches = [
                i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/cache@")
            ]
            assert caches, (path.name, name)
            (checkout,) = [
                i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/checkout@")
            ]
            cache = caches[0]
            # after the checkout that makes .git, before steward reads or writes the cache
            assert checkout < cache < first_steward, (path.name, name, cache)
            step = steps[cache]
            assert "if" not in step, (path.name, name)
            assert step["with"]["path"] == ".git/steward"
            key = step["with"]["key"]
            assert CONFIG_HASH in key, key
            assert __version__ in key, key  # a new steward starts a new line of caches
            restore = [k.strip() for k in step["with"]["restore-keys"].splitlines() if k.strip()]
            assert restore, key
            for prefix in restore:  # the newest cache of this steward version, any config
                assert key.startswith(prefix), (key, prefix)
                assert __version__ in prefix, prefix
    assert ("release.yml", "release") in found
    assert ("pre-release.yml", "pre-release") in found
