"""The whole pipeline on the sample project with real parts: git, a bare remote, builds,
pypiserver with upload auth, pip installing from it afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import click
from click.testing import CliRunner, Result

from steward.cli.pipeline_cmd import register
from steward.errors import StewardError
from tests.pipeline.conftest import COMMIT_EPOCH, Index, Sample, git, make_sample

VERSION = "1.2.0"


def release_group() -> click.Group:
    group = click.Group("release")
    register(group)
    return group


@dataclass
class Outcome:
    exit_code: int
    output: str
    exception: BaseException | None


def run_cli(args: list[str], env: dict[str, str] | None = None) -> Outcome:
    """Invoke the release commands the way `steward.cli.main.main` reports errors."""
    result: Result = CliRunner().invoke(release_group(), args, env=env)
    exc = result.exception
    if isinstance(exc, StewardError):
        return Outcome(exc.exit_code, f"{result.output}error: {exc}\n", exc)
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc
    return Outcome(result.exit_code, result.output, None)


def invoke(sample: Sample, *args: str) -> Outcome:
    return run_cli([*args, "--path", str(sample.root)], sample.env())


def state(sample: Sample, version: str = VERSION) -> dict:
    return json.loads((sample.release_dir / version / "state.json").read_text())


def statuses(sample: Sample) -> dict[str, str]:
    return {s["name"]: s["status"] for s in state(sample)["stages"]}


def test_full_release_installs_tags_and_reruns_as_a_no_op(tmp_path: Path, pypi: Index) -> None:
    sample = make_sample(tmp_path, pypi)
    result = invoke(sample, "run", "--version", VERSION)
    assert result.exit_code == 0, result.output + str(result.exception)
    assert statuses(sample) == dict.fromkeys(
        ["seal", "quality", "build", "provenance", "publish", "tag"], "completed"
    )
    # progress, the timings table and a Mermaid Gantt of the run were printed
    assert "[1/6] seal" in result.output
    assert "```mermaid" in result.output
    assert "gantt" in result.output
    assert "section publish" in result.output

    assert sorted(p.name for p in (sample.release_dir / VERSION).iterdir()) == [
        "dist.tar",
        "multiple.intoto.jsonl",
        "provenance.pub.pem",
        "quality.log",
        "source.tar",
        "state.json",
    ]

    # the index holds exactly the two artifacts, uploaded with the htpasswd credentials
    assert sorted(p.name for p in pypi.packages.iterdir()) == [
        "sample-1.2.0-py3-none-any.whl",
        "sample-1.2.0.tar.gz",
    ]
    target = tmp_path / "installed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--isolated",
            "--no-deps",
            "--quiet",
            "--index-url",
            pypi.simple_url,
            "--target",
            str(target),
            f"sample=={VERSION}",
        ],
        check=True,
    )
    assert (target / f"sample-{VERSION}.dist-info" / "METADATA").read_text().count(
        f"Version: {VERSION}"
    ) == 1

    # the tag is on the remote, annotated, on a bump commit whose parent is the release commit
    tag_obj = git(sample.remote, "rev-parse", "refs/tags/v1.2.0")
    assert git(sample.remote, "cat-file", "-t", tag_obj) == "tag"
    bump = git(sample.remote, "rev-parse", "v1.2.0^{commit}")
    assert git(sample.remote, "rev-parse", f"{bump}^") == sample.commit
    assert git(sample.remote, "show", "-s", "--format=%at %ct", bump) == (
        f"{COMMIT_EPOCH} {COMMIT_EPOCH}"
    )
    assert 'version = "1.2.0"' in git(sample.remote, "show", f"{bump}:pyproject.toml")
    # the worktree and the branch were not touched
    assert git(sample.root, "rev-parse", "HEAD") == sample.commit
    assert 'version = "0.0.0"' in (sample.root / "pyproject.toml").read_text()

    # the sealed source keeps dotfiles, drops .git, and is normalised
    with tarfile.open(sample.release_dir / VERSION / "source.tar") as tar:
        infos = tar.getmembers()
    names = [i.name for i in infos]
    assert ".github/workflows/ci.yml" in names
    assert not any(n == ".git" or n.startswith(".git/") for n in names)
    assert names == sorted(names)
    assert {i.mtime for i in infos} == {COMMIT_EPOCH}
    assert {(i.uid, i.gid, i.uname, i.gname) for i in infos} == {(0, 0, "", "")}

    # release verify accepts the sealed artifacts with the signing key's public half
    dist = tmp_path / "dist"
    with tarfile.open(sample.release_dir / VERSION / "dist.tar") as tar:
        tar.extractall(dist, filter="data")
    provenance = sample.release_dir / VERSION / "multiple.intoto.jsonl"
    ok = run_cli(
        [
            "verify",
            str(dist),
            "--provenance",
            str(provenance),
            "--public-key",
            str(sample.public_pem),
        ]
    )
    assert ok.exit_code == 0, ok.output
    assert "verified 2 artifact(s)" in ok.output

    # a rerun changes nothing: same state file, same index, same refs
    before = (sample.release_dir / VERSION / "state.json").read_bytes()
    index_before = {p.name: p.stat().st_mtime_ns for p in pypi.packages.iterdir()}
    again = invoke(sample, "run", "--version", VERSION)
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output
    assert (sample.release_dir / VERSION / "state.json").read_bytes() == before
    assert {p.name: p.stat().st_mtime_ns for p in pypi.packages.iterdir()} == index_before
    assert git(sample.remote, "rev-parse", "refs/tags/v1.2.0") == tag_obj

    status = invoke(sample, "status", "--version", VERSION)
    assert status.exit_code == 0
    assert "release 1.2.0: finished" in status.output
    assert "```mermaid" in status.output
    as_json = json.loads(invoke(sample, "status", "--version", VERSION, "--json").output)
    assert as_json["finished"] is True
    assert as_json["inputs"]["commit"] == sample.commit
    assert as_json["inputs"]["epoch"] == COMMIT_EPOCH


def test_stop_before_leaves_the_rest_to_a_gated_job_that_resumes(
    tmp_path: Path, pypi: Index
) -> None:
    """The playbook's release waits for approval between stages (GitHub environments): the
    first job stops before publish without needing the index's credentials; the second,
    with them, resumes from the kept state."""
    sample = make_sample(tmp_path, pypi)
    first_env = {k: v for k, v in sample.env().items() if k != "TWINE_PASSWORD"}
    result = run_cli(
        ["run", "--version", VERSION, "--stop-before", "publish", "--path", str(sample.root)],
        first_env,
    )
    assert result.exit_code == 0, result.output
    assert "stopped before publish (--stop-before)" in result.output
    assert statuses(sample) == {
        "seal": "completed",
        "quality": "completed",
        "build": "completed",
        "provenance": "completed",
        "publish": "pending",
        "tag": "pending",
    }
    assert list(pypi.packages.iterdir()) == []
    again = invoke(sample, "run", "--version", VERSION, "--resume")
    assert again.exit_code == 0, again.output
    assert set(statuses(sample).values()) == {"completed"}
    assert "done before, outputs verified" in again.output
    wrong = invoke(sample, "run", "--version", "1.3.0", "--stop-before", "docs")
    assert wrong.exit_code == 2, wrong.output
    assert "--stop-before docs: not one of this release's stages" in wrong.output
