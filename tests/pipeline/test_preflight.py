"""Checks before effects (#16): a refusal the pipeline can know before its first stage runs
is found by the preflight (exit 2, nothing sealed, built, uploaded or pushed), not after
the artifacts reached the index. On the sample project with a real bare remote and a real
pypiserver."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.pipeline.conftest import Index, Sample, git, make_sample
from tests.pipeline.test_release_run import invoke, statuses

TAG = "refs/tags/v1.2.0"


def other_commit(sample: Sample) -> str:
    """A commit of the same tree that is not the release commit nor made from it."""
    return git(sample.root, "commit-tree", "HEAD^{tree}", "-m", "elsewhere")


def nothing_happened(sample: Sample, pypi: Index, remote_refs: str) -> None:
    assert not (sample.root / ".steward").exists()  # not even sealed
    assert list(pypi.packages.iterdir()) == []
    assert git(sample.remote, "show-ref") == remote_refs
    assert git(sample.root, "rev-parse", "HEAD") == sample.commit


@pytest.mark.parametrize("where", ["origin", "local"])
def test_a_tag_on_another_commit_is_refused_before_anything_is_built(
    tmp_path: Path, pypi: Index, where: str
) -> None:
    sample = make_sample(tmp_path, pypi)
    elsewhere = other_commit(sample)
    git(sample.root, "tag", "-a", "v1.2.0", "-m", "someone else's", elsewhere)
    if where == "origin":
        git(sample.root, "push", "-q", "origin", TAG)
        git(sample.root, "tag", "-d", "v1.2.0")
    remote_refs = git(sample.remote, "show-ref")
    out = invoke(sample, "run", "--version", "1.2.0")
    assert out.exit_code == 2, out.output
    line = out.output.strip().splitlines()[-1]
    assert line.startswith("error: cannot start the release: ")
    assert f"tag v1.2.0 already exists ({where}) on commit {elsewhere[:12]}" in line
    assert "not the release commit" in line
    nothing_happened(sample, pypi, remote_refs)


def test_a_lightweight_tag_on_the_release_commit_is_refused_too(
    tmp_path: Path, pypi: Index
) -> None:
    """Steward never moves a tag and makes only annotated ones: this one could not stay."""
    sample = make_sample(tmp_path, pypi)
    git(sample.root, "tag", "v1.2.0")
    git(sample.root, "push", "-q", "origin", TAG)
    remote_refs = git(sample.remote, "show-ref")
    out = invoke(sample, "run", "--version", "1.2.0")
    assert out.exit_code == 2, out.output
    assert "tag v1.2.0 already exists (local) and is not the tag this release makes" in out.output
    nothing_happened(sample, pypi, remote_refs)


def test_the_tag_a_previous_run_made_is_accepted(tmp_path: Path) -> None:
    """The other side of the check: the state moved aside, a rerun meets the tag it made
    itself (same commit, same bytes) and goes on."""
    sample = make_sample(tmp_path, None, stages="[seal, tag]")
    first = invoke(sample, "run", "--version", "1.2.0")
    assert first.exit_code == 0, first.output
    tag = git(sample.remote, "rev-parse", TAG)
    shutil.move(sample.root / ".steward", tmp_path / "aside")
    again = invoke(sample, "run", "--version", "1.2.0")
    assert again.exit_code == 0, again.output
    assert statuses(sample) == {"seal": "completed", "tag": "completed"}
    assert git(sample.remote, "rev-parse", TAG) == tag == git(sample.root, "rev-parse", TAG)


def test_a_bump_branch_on_another_commit_is_refused(tmp_path: Path, pypi: Index) -> None:
    sample = make_sample(tmp_path, pypi, extra="  bump_pr: true\n")
    git(
        sample.root, "push", "-q", "origin", f"{other_commit(sample)}:refs/heads/steward/bump-1.2.0"
    )
    remote_refs = git(sample.remote, "show-ref")
    out = invoke(sample, "run", "--version", "1.2.0")
    assert out.exit_code == 2, out.output
    assert "branch steward/bump-1.2.0 already exists on origin" in out.output
    nothing_happened(sample, pypi, remote_refs)


def test_a_local_version_is_refused_before_it_is_built_for_an_index(
    tmp_path: Path, pypi: Index
) -> None:
    """PyPI refuses a local version (`+local`, PEP 440: not for public indexes); the run
    once built, signed and uploaded it (pypiserver takes it) before anyone noticed."""
    sample = make_sample(tmp_path, pypi)
    remote_refs = git(sample.remote, "show-ref")
    out = invoke(sample, "run", "--version", "1.1.0+local")
    assert out.exit_code == 2, out.output
    assert (
        "publish: 1.1.0+local has a local version label (+local), which PyPI refuses" in out.output
    )
    nothing_happened(sample, pypi, remote_refs)
    dry = invoke(sample, "run", "--version", "1.1.0+local", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "warning: publish: 1.1.0+local has a local version label" in dry.output


def test_a_project_file_the_seal_cannot_write_is_refused_before_the_seal(
    tmp_path: Path, pypi: Index
) -> None:
    """The release commit's pyproject.toml is where the seal writes the version: invalid
    TOML there once failed the first stage, leaving a started release to resume."""

    def broken(root: Path) -> None:
        path = root / "pyproject.toml"
        path.write_text(path.read_text().replace("[project]", "[project"))

    sample = make_sample(tmp_path, pypi, prepare=broken)
    remote_refs = git(sample.remote, "show-ref")
    out = invoke(sample, "run", "--version", "1.2.0")
    assert out.exit_code == 2, out.output
    assert "seal: pyproject.toml in the release commit: invalid TOML" in out.output
    nothing_happened(sample, pypi, remote_refs)


def test_a_remote_that_cannot_be_read_is_one_line_before_the_release_starts(
    tmp_path: Path, pypi: Index
) -> None:
    """The tag goes to the remote at the end: one that is not there is known at the start."""
    sample = make_sample(tmp_path, pypi)
    shutil.rmtree(sample.remote)
    out = invoke(sample, "run", "--version", "1.2.0")
    assert out.exit_code == 2, out.output
    [line] = out.output.strip().splitlines()
    assert "tag: cannot read the refs of remote origin: git ls-remote origin" in line
    assert not (sample.root / ".steward").exists()
    assert list(pypi.packages.iterdir()) == []
