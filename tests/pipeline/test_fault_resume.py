"""Faults and tampering on a real release: the tag push is refused after publishing, sealed
archives are changed between runs; --resume refuses tampering and never uploads twice."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

from steward.errors import ReleaseError, TamperedArtifactError
from tests.pipeline.conftest import COMMIT_EPOCH, PASSWORD, Index, git, make_sample
from tests.pipeline.test_release_run import VERSION, invoke, state, statuses

REJECT_TAGS = """#!/bin/sh
while read old new ref; do
  case "$ref" in refs/tags/*) echo "tags are frozen" >&2; exit 1;; esac
done
exit 0
"""


def reject_tag_pushes(remote: Path) -> Path:
    """The remote refuses tag pushes (a pre-receive hook): the pipeline stops at its tag.
    The hook's path: unlinked, pushes go through again."""
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(REJECT_TAGS)
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    return hook


def expected_bump_commit(tmp_path: Path, sample_root: Path, commit: str) -> str:
    """The bump commit derived independently: a clone, a text edit, `git commit`."""
    clone = tmp_path / "derive"
    git(tmp_path, "clone", "-q", str(sample_root), str(clone))
    git(clone, "checkout", "-q", commit)
    pyproject = clone / "pyproject.toml"
    text = pyproject.read_text()
    assert 'version = "0.0.0"' in text
    pyproject.write_text(text.replace('version = "0.0.0"', f'version = "{VERSION}"'))
    ident = {
        "GIT_AUTHOR_NAME": "steward-release",
        "GIT_AUTHOR_EMAIL": "steward-release@users.noreply.github.com",
        "GIT_COMMITTER_NAME": "steward-release",
        "GIT_COMMITTER_EMAIL": "steward-release@users.noreply.github.com",
    }
    git(clone, "commit", "-q", "-a", "-m", f"chore(version): bump version to {VERSION}", env=ident)
    return git(clone, "rev-parse", "HEAD")


def test_tag_push_fails_after_publish_then_resume_finishes_without_reupload(
    tmp_path: Path, pypi: Index
) -> None:
    sample = make_sample(tmp_path, pypi)
    hook = reject_tag_pushes(sample.remote)

    failed = invoke(sample, "run", "--version", VERSION)
    assert failed.exit_code == 1
    assert "tags are frozen" in failed.output
    assert f"steward release run --version {VERSION} --resume" in failed.output
    assert statuses(sample) == {
        "seal": "completed",
        "quality": "completed",
        "build": "completed",
        "provenance": "completed",
        "publish": "completed",
        "tag": "failed",
    }
    uploaded = {p.name: p.stat().st_mtime_ns for p in pypi.packages.iterdir()}
    assert len(uploaded) == 2
    assert git(sample.remote, "tag", "--list") == ""
    publish_rec = next(s for s in state(sample)["stages"] if s["name"] == "publish")

    # without --resume an unfinished release is not restarted
    again = invoke(sample, "run", "--version", VERSION)
    assert again.exit_code == 2
    assert "--resume" in again.output

    # tampering with a sealed archive is refused, naming the stage and both hashes
    rdir = sample.release_dir / VERSION
    for name, stage in (("source.tar", "seal"), ("dist.tar", "build")):
        path = rdir / name
        original = path.read_bytes()
        recorded = next(s for s in state(sample)["stages"] if s["name"] == stage)["outputs"][name]
        path.write_bytes(original + b"\0")
        refused = invoke(sample, "run", "--version", VERSION, "--resume")
        assert refused.exit_code == 1
        assert isinstance(refused.exception, TamperedArtifactError)
        assert f"stage {stage}" in refused.output
        assert recorded in refused.output
        assert hashlib.sha256(original + b"\0").hexdigest() in refused.output
        path.write_bytes(original)

    hook.unlink()
    resumed = invoke(sample, "run", "--version", VERSION, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "publish: done before, outputs verified" in resumed.output
    assert "uploaded" not in resumed.output
    assert {p.name: p.stat().st_mtime_ns for p in pypi.packages.iterdir()} == uploaded
    assert next(s for s in state(sample)["stages"] if s["name"] == "publish") == publish_rec

    expected = expected_bump_commit(tmp_path, sample.root, sample.commit)
    assert git(sample.remote, "rev-parse", f"v{VERSION}^{{commit}}") == expected
    assert git(sample.remote, "for-each-ref", "--format=%(taggerdate:raw)", "refs/tags") == (
        f"{COMMIT_EPOCH} +0000"
    )
    assert PASSWORD not in failed.output + resumed.output


def test_resume_notices_a_deleted_public_key_and_a_damaged_state(
    tmp_path: Path, pypi: Index
) -> None:
    sample = make_sample(tmp_path, pypi)
    hook = reject_tag_pushes(sample.remote)
    assert invoke(sample, "run", "--version", VERSION).exit_code == 1  # stops at the tag
    rdir = sample.release_dir / VERSION

    key = rdir / "provenance.pub.pem"
    original_key = key.read_bytes()
    key.unlink()
    refused = invoke(sample, "run", "--version", VERSION, "--resume")
    assert refused.exit_code == 1
    assert isinstance(refused.exception, TamperedArtifactError)
    assert "provenance.pub.pem" in refused.output
    key.write_bytes(original_key)

    state_file = rdir / "state.json"
    original_state = state_file.read_text()
    recorded = json.loads(original_state)
    without_outputs = json.loads(original_state)
    for rec in without_outputs["stages"]:
        rec["outputs"] = {}
    unknown_stage = json.loads(original_state)
    unknown_stage["stages"][0]["name"] = "no-such-stage"
    for damaged in (
        "[]",
        original_state[: len(original_state) // 2],
        json.dumps({**recorded, "stages": "seal"}),
        json.dumps(without_outputs),
        json.dumps(unknown_stage),
    ):
        state_file.write_text(damaged)
        result = invoke(sample, "run", "--version", VERSION, "--resume")
        assert result.exit_code == 1, damaged[:80]
        assert isinstance(result.exception, ReleaseError), repr(result.exception)
        assert "state" in str(result.exception)
        assert "Traceback" not in result.output
    state_file.write_text(original_state)
    hook.unlink()
    assert invoke(sample, "run", "--version", VERSION, "--resume").exit_code == 0
