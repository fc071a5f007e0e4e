"""JSON the release pipeline reads from files and branches is nesting-bounded (issue #16).

Reproductions, each first seen failing: a provenance file (`steward release verify`), a
signed statement, or the documentation branch's ``versions.json`` nested thousands deep
ended in a RecursionError traceback; nested 65 deep (GitHub's and these formats' deepest is
far less) it was read on. Each is now one line naming what was refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from steward import limits
from steward.errors import ReleaseError, TamperedArtifactError
from steward.pipeline import provenance
from steward.pipeline.verify import verify_dist
from steward.release.docs_site import read_versions
from tests.release.gitrepo import Repo


def deep_json(depth: int) -> str:
    if depth > 500:  # deeper than the decoder follows: write it out, do not build it
        return "[" * depth + "]" * depth
    value: object = 1
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return json.dumps(value)


DEPTHS = [limits.MAX_JSON_DEPTH + 1, 5000]


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_provenance_line_nested_too_deep_is_tampered(tmp_path: Path, depth: int) -> None:
    key = Ed25519PrivateKey.generate().public_key()
    public = tmp_path / "key.pub"
    public.write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    dist = tmp_path / "dist"
    dist.mkdir()
    attestation = tmp_path / "multiple.intoto.jsonl"
    attestation.write_text(deep_json(depth) + "\n")
    with pytest.raises(TamperedArtifactError) as exc:
        verify_dist(dist, attestation, public)
    assert str(exc.value) == f"{attestation}:1: the envelope is nested deeper than 64 levels"


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_statement_nested_too_deep_is_tampered(depth: int) -> None:
    with pytest.raises(TamperedArtifactError) as exc:
        provenance.check_statement(deep_json(depth).encode())
    assert str(exc.value) == "the provenance payload is nested deeper than 64 levels"


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_versions_json_nested_too_deep_is_a_docs_error(tmp_path: Path, depth: int) -> None:
    repo = Repo(tmp_path / "site")
    (repo.path / "versions.json").write_text(deep_json(depth))
    repo.git("add", "versions.json")
    repo.commit("docs: versions")
    with pytest.raises(ReleaseError) as exc:
        read_versions(repo.path, "HEAD")
    assert str(exc.value) == "versions.json on HEAD is nested deeper than 64 levels"
