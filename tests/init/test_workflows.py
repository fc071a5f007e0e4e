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
from steward.init.writer import ACTIONS

from .test_zizmor import layer_and_sar

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


PIN = re.compile(r"(?P<name>[\w-]+/[\w-]+)@(?P<sha>[0-9a-f]{40}) # (?P<version>v\d+(\.\d+)*)")


def by_major_tag(root: Path) -> None:
    """Pins rewritten as their major tags (``actions/checkout@v4``): actionlint knows the
    inputs of popular actions by tag only, so this is how it checks the ``with:`` keys."""
    for path in workflow_files(root):
        text = PIN.sub(
            lambda m: f"{m['name']}@{m['version'].split('.')[0]}", path.read_text("utf-8")
        )
        path.write_text(text, encoding="utf-8")


def test_every_workflow_passes_actionlint(initialised: Path, actionlint: Path) -> None:
    result = run_actionlint(actionlint, initialised)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Checking 6 workflow file(s)" in result.stdout
    by_major_tag(initialised)  # and the actions' inputs
    result = run_actionlint(actionlint, initialised)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_wrong_action_input(initialised: Path, actionlint: Path) -> None:
    release = initialised / WORKFLOWS / "release.yml"
    release.write_text(release.read_text().replace("fetch-depth: 0", "fetch-dept: 0"))
    by_major_tag(initialised)
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
                if "uses" in step:  # by commit, from the one table (the version: text below)
                    action, _, sha = step["uses"].partition("@")
                    assert ACTIONS[action][0] == sha, step["uses"]
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
    assert job["steps"][0]["with"] == {"fetch-depth": 0, "persist-credentials": True}
    (run,) = [s for s in job["steps"] if s.get("name") == "Release"]
    assert run["run"] == 'steward release run --version "${VERSION}"'
    assert run["env"]["VERSION"] == "${{ inputs.version }}"
    assert job["permissions"] == {
        "contents": "write",
        "issues": "write",
        "pull-requests": "write",
        "id-token": "write",  # PyPI Trusted Publishing
    }


def test_alpha_pre_release_runs_on_weekday_mornings(initialised: Path) -> None:
    wf = load(initialised, f"{WORKFLOWS}/pre-release.yml")
    assert on(wf)["schedule"] == [{"cron": "0 8 * * 1-5"}]
    assert "workflow_dispatch" in on(wf)
    job = wf["jobs"]["pre-release"]
    assert job["steps"][0]["with"] == {"fetch-depth": 0, "persist-credentials": True}
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


# -- pinned actions, environments, credentials (issue #19) -------------------------------------


def test_every_action_comes_pinned_from_the_table_with_its_version(initialised: Path) -> None:
    used = set()
    for path in workflow_files(initialised):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not re.match(r"\s*(- )?uses:", line):
                continue
            match = re.fullmatch(r"\s*(?:- )?uses: ([\w-]+/[\w-]+)@(\w{40}) # (v[\d.]+)", line)
            assert match, (path.name, line)
            name, sha, version = match.groups()
            assert ACTIONS[name] == (sha, version), line
            used.add(name)
    files = {f.path: f.content for f in plan_files(InitOptions(), config=layer_and_sar())}
    used |= set(re.findall(r"uses: ([\w-]+/[\w-]+)@", "".join(files.values())))
    assert used == set(ACTIONS)  # no entry the templates do not use
    for name, (sha, version) in ACTIONS.items():
        assert re.fullmatch(r"[0-9a-f]{40}", sha), name
        assert re.fullmatch(r"v\d+\.\d+\.\d+", version), name


def test_a_template_naming_an_action_outside_the_table_does_not_render() -> None:
    from steward.init.writer import _uses

    with pytest.raises(KeyError, match="pin it there first"):
        _uses("actions/stale")


def checkouts(root: Path) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    out = []
    for path in workflow_files(root):
        wf = load(root, f"{WORKFLOWS}/{path.name}")
        for name, job in wf["jobs"].items():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    out.append((path.name, name, job, step))
    return out


def test_only_checkouts_that_push_keep_their_credentials_and_say_why(initialised: Path) -> None:
    kept = []
    for file, name, job, step in checkouts(initialised):
        persist = step["with"]["persist-credentials"]  # always said, never the default
        if persist is False:
            continue
        assert persist is True, (file, name)
        assert job["permissions"]["contents"] == "write", (file, name)  # it pushes
        text = (initialised / WORKFLOWS / file).read_text(encoding="utf-8")
        assert "# Kept: " in text, file
        kept.append(file)
    assert sorted(kept) == ["pre-release.yml", "rebuild-latest-docs.yml", "release.yml"]


def test_publishing_jobs_run_in_the_environments(initialised: Path) -> None:
    from steward.init.writer import ENVIRONMENTS

    release = load(initialised, f"{WORKFLOWS}/release.yml")["jobs"]["release"]
    pre = load(initialised, f"{WORKFLOWS}/pre-release.yml")["jobs"]["pre-release"]
    assert release["environment"] == ENVIRONMENTS["release"] == "release"
    assert pre["environment"] == ENVIRONMENTS["pre-release"] == "pre-release"


def release_jobs(files: dict[str, str]) -> list[dict[str, Any]]:
    release = yaml.safe_load(files[f"{WORKFLOWS}/release.yml"])["jobs"]["release"]
    pre = yaml.safe_load(files[f"{WORKFLOWS}/pre-release.yml"])["jobs"]["pre-release"]
    return [release, pre]


def test_pypi_through_trusted_publishing_without_a_token_by_default() -> None:
    files = {f.path: f.content for f in plan_files(InitOptions())}
    for job in release_jobs(files):
        assert job["permissions"]["id-token"] == "write"
        assert "aws-actions" not in str(job["steps"])  # no layer or SAR account: no AWS
        (run,) = [s for s in job["steps"] if "steward release run" in s.get("run", "")]
        assert set(run["env"]) == {"VERSION", "GITHUB_TOKEN", "STEWARD_SIGNING_KEY"}
    assert "PYPI_API_TOKEN" not in files[f"{WORKFLOWS}/release.yml"].split("\nname:")[1]


def test_the_token_opt_out_reads_the_secret_and_asks_for_no_oidc_token() -> None:
    files = {f.path: f.content for f in plan_files(InitOptions(pypi_token=True))}
    for job in release_jobs(files):
        assert "id-token" not in job["permissions"]
        (run,) = [s for s in job["steps"] if "steward release run" in s.get("run", "")]
        assert run["env"]["TWINE_PASSWORD"] == "${{ secrets.PYPI_API_TOKEN }}"
        assert run["env"]["TWINE_USERNAME"] == "__token__"


@pytest.mark.parametrize("pypi_token", [False, True])
def test_a_layer_or_sar_account_gets_aws_credentials_through_oidc(pypi_token: bool) -> None:
    options = InitOptions(pypi_token=pypi_token)
    files = {f.path: f.content for f in plan_files(options, config=layer_and_sar())}
    for job in release_jobs(files):
        assert job["permissions"]["id-token"] == "write"
        names = [s.get("name", "") for s in job["steps"]]
        aws = names.index("AWS credentials through OIDC (release.layer, release.sar)")
        runs = [s.get("run", "") for s in job["steps"]]
        run = next(i for i, text in enumerate(runs) if "steward release run" in text)
        install = next(i for i, text in enumerate(runs) if "pip install" in text)
        assert install < aws < run  # the project's build code never sees the credentials
        step = job["steps"][aws]
        assert step["uses"].startswith("aws-actions/configure-aws-credentials@")
        assert step["with"]["role-to-assume"] == "${{ vars.AWS_RELEASE_ROLE_ARN }}"
        assert step["with"]["aws-region"] == "${{ vars.AWS_REGION || 'eu-west-1' }}"
        assert "aws-access-key-id" not in step["with"]  # no long-lived keys
    # every other job, in every workflow, has no AWS step and no OIDC token
    for rel, text in files.items():
        if not rel.startswith(WORKFLOWS) or rel.endswith(("/release.yml", "/pre-release.yml")):
            continue
        wf = yaml.safe_load(text)
        for job in wf["jobs"].values():
            if rel.endswith("run-e2e-tests.yml"):
                continue  # the E2E tests' own role (AWS_E2E_ROLE_ARN)
            assert "id-token" not in job["permissions"], rel


def test_the_written_layer_and_sar_workflows_pass_the_schema_and_actionlint(
    tmp_path: Path, actionlint: Path
) -> None:
    from steward.init import write_files

    root = tmp_path / "repo"
    root.mkdir()
    write_files(root, plan_files(InitOptions(pypi_token=True), config=layer_and_sar()))
    result = check_jsonschema("vendor.github-workflows", workflow_files(root))
    assert result.returncode == 0, result.stdout + result.stderr
    for _ in range(2):  # pinned, then by tag for the actions' inputs
        result = run_actionlint(actionlint, root)
        assert result.returncode == 0, result.stdout + result.stderr
        by_major_tag(root)
