"""Deterministic archives and the hash check every later stage makes before restoring."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

import pytest

from steward.config.model import StewardConfig
from steward.errors import TamperedArtifactError
from steward.pipeline import archive
from steward.pipeline.context import Context
from steward.pipeline.stages.build import BuildStage
from steward.pipeline.stages.provenance import ProvenanceStage
from steward.pipeline.stages.publish import PublishStage
from steward.pipeline.stages.quality import QualityStage
from steward.pipeline.stages.tag import TagStage
from steward.pipeline.state import ReleaseState


def make_tree(root: Path, *, mtime: int, mode: int, reverse: bool) -> None:
    files = {
        "pyproject.toml": b"[project]\n",
        ".github/workflows/ci.yml": b"on: push\n",
        "src/pkg/__init__.py": b"",
        "bin/run": b"#!/bin/sh\n",
        ".git/HEAD": b"ref: refs/heads/main\n",
    }
    for rel in sorted(files, reverse=reverse):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel])
        path.chmod(0o775 if rel == "bin/run" else mode)
        os.utime(path, (mtime, mtime))


def test_same_tree_gives_the_same_bytes_whatever_the_metadata(tmp_path: Path) -> None:
    make_tree(tmp_path / "a", mtime=1_000, mode=0o600, reverse=False)
    make_tree(tmp_path / "b", mtime=2_000_000, mode=0o664, reverse=True)
    sha_a = archive.create(tmp_path / "a", tmp_path / "a.tar", 1_700_000_000)
    sha_b = archive.create(tmp_path / "b", tmp_path / "b.tar", 1_700_000_000)
    assert sha_a == sha_b
    assert sha_a == hashlib.sha256((tmp_path / "a.tar").read_bytes()).hexdigest()

    with tarfile.open(tmp_path / "a.tar") as tar:
        infos = {i.name: i for i in tar.getmembers()}
    assert sorted(infos) == [
        ".github",
        ".github/workflows",
        ".github/workflows/ci.yml",
        "bin",
        "bin/run",
        "pyproject.toml",
        "src",
        "src/pkg",
        "src/pkg/__init__.py",
    ]
    assert infos["bin/run"].mode == 0o755
    assert infos["pyproject.toml"].mode == 0o644
    assert infos[".github"].mode == 0o755
    assert {i.mtime for i in infos.values()} == {1_700_000_000}
    assert {(i.uid, i.gid, i.uname, i.gname) for i in infos.values()} == {(0, 0, "", "")}


def test_another_epoch_gives_another_hash(tmp_path: Path) -> None:
    make_tree(tmp_path / "a", mtime=1, mode=0o644, reverse=False)
    one = archive.create(tmp_path / "a", tmp_path / "1.tar", 1_700_000_000)
    two = archive.create(tmp_path / "a", tmp_path / "2.tar", 1_700_000_001)
    assert one != two


def test_restore_refuses_a_changed_archive_naming_stage_and_both_hashes(tmp_path: Path) -> None:
    make_tree(tmp_path / "a", mtime=1, mode=0o644, reverse=False)
    sealed = tmp_path / "source.tar"
    recorded = archive.create(tmp_path / "a", sealed, 1_700_000_000)
    restored = archive.restore(sealed, recorded, tmp_path / "out", "build")
    assert (restored / ".github/workflows/ci.yml").read_bytes() == b"on: push\n"

    sealed.write_bytes(sealed.read_bytes().replace(b"[project]", b"[hacked!]"))
    found = hashlib.sha256(sealed.read_bytes()).hexdigest()
    with pytest.raises(TamperedArtifactError) as err:
        archive.restore(sealed, recorded, tmp_path / "out", "build")
    assert "stage build" in str(err.value)
    assert recorded in str(err.value)
    assert found in str(err.value)


def _context(tmp_path: Path, sealed: dict[str, tuple[str, str]]) -> Context:
    state = ReleaseState("1.0.0", {"commit": "0" * 40, "epoch": 1_700_000_000})
    for stage, (output, sha) in sealed.items():
        rec = state.stage(stage)
        rec.status = "completed"
        rec.outputs[output] = sha
    state.stage("seal").details["version_file"] = "pyproject.toml"
    return Context(tmp_path, "1.0.0", False, StewardConfig(), state, tmp_path, {}, lambda _: None)


@pytest.mark.parametrize(
    ("stage", "archive_name"),
    [
        (QualityStage(), "source.tar"),
        (BuildStage(), "source.tar"),
        (TagStage(), "source.tar"),
        (ProvenanceStage(), "dist.tar"),
        (PublishStage(), "dist.tar"),
    ],
)
def test_every_later_stage_checks_the_sealed_hash_before_anything_else(
    tmp_path: Path, stage: object, archive_name: str
) -> None:
    make_tree(tmp_path / "tree", mtime=1, mode=0o644, reverse=False)
    recorded = archive.create(tmp_path / "tree", tmp_path / archive_name, 1_700_000_000)
    (tmp_path / archive_name).write_bytes(b"something else entirely")
    producer = "seal" if archive_name == "source.tar" else "build"
    ctx = _context(tmp_path, {producer: (archive_name, recorded)})
    with pytest.raises(TamperedArtifactError) as err:
        stage.run(ctx, ctx.state.stage(stage.name))  # type: ignore[attr-defined]
    assert f"stage {stage.name}" in str(err.value)  # type: ignore[attr-defined]
    assert recorded in str(err.value)
    assert hashlib.sha256(b"something else entirely").hexdigest() in str(err.value)
