"""in-toto v1 Statements carrying a SLSA v1 provenance predicate, and their checks.

Shapes follow https://github.com/in-toto/attestation (spec/v1/statement.md) and
https://slsa.dev/spec/v1.0/provenance: subjects are the artifacts by sha256; the build
definition names the build type, the external parameters (version, commit) and the
resolved dependencies (the source commit); run details name the builder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from steward import limits
from steward.errors import TamperedArtifactError
from steward.pipeline import archive

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SLSA_PREDICATE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://github.com/repo-steward/steward/release-pipeline/python-build@v1"


def statement(
    artifacts: Mapping[str, str],
    *,
    version: str,
    commit: str,
    source_uri: str,
    builder_id: str,
    epoch: int,
    source_sha256: str,
    invocation_id: str,
) -> dict[str, Any]:
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": name, "digest": {"sha256": sha}} for name, sha in sorted(artifacts.items())
        ],
        "predicateType": SLSA_PREDICATE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"version": version, "commit": commit},
                "internalParameters": {
                    "sourceDateEpoch": epoch,
                    "sealedSourceSha256": source_sha256,
                },
                "resolvedDependencies": [
                    {"uri": source_uri, "digest": {"gitCommit": commit}},
                ],
            },
            "runDetails": {
                "builder": {"id": builder_id},
                "metadata": {"invocationId": invocation_id},
            },
        },
    }


def check_statement(payload: bytes) -> dict[str, str]:
    """Parse a Statement and return its subjects as name -> sha256 (refusing bad shapes)."""
    data = limits.loads_json(payload, "the provenance payload", TamperedArtifactError)
    if not isinstance(data, dict) or data.get("_type") != STATEMENT_TYPE:
        raise TamperedArtifactError(f"provenance payload is not an in-toto {STATEMENT_TYPE}")
    if data.get("predicateType") != SLSA_PREDICATE:
        raise TamperedArtifactError(f"provenance predicate is not {SLSA_PREDICATE}")
    subjects = data.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise TamperedArtifactError("provenance statement has no subjects")
    out: dict[str, str] = {}
    for s in subjects:
        digest = s.get("digest") if isinstance(s, dict) else None
        name = s.get("name") if isinstance(s, dict) else None
        if not isinstance(name, str) or not isinstance(digest, dict):
            raise TamperedArtifactError("provenance subject without name or digest")
        sha = digest.get("sha256")
        if not isinstance(sha, str) or len(sha) != 64:
            raise TamperedArtifactError(f"provenance subject {name!r} has no sha256 digest")
        out[name] = sha.lower()
    return out


def check_artifacts(subjects: Mapping[str, str], dist: Path) -> list[str]:
    """Every file in ``dist``, at any depth, must be a subject with the same sha256, and
    vice versa; a link or anything but a regular file is a problem of its own."""
    files: dict[str, Path] = {}
    problems: list[str] = []
    if dist.is_dir():
        for path in sorted(dist.rglob("*")):
            name = path.relative_to(dist).as_posix()
            if path.is_symlink():
                problems.append(f"{name}: a link, not a file")
            elif path.is_file():
                files[name] = path
            elif not path.is_dir():
                problems.append(f"{name}: not a regular file")
    for name, path in files.items():
        if name not in subjects:
            problems.append(f"{name}: not in the provenance")
            continue
        actual = archive.sha256_file(path)
        if actual != subjects[name]:
            problems.append(f"{name}: sha256 {actual}, provenance says {subjects[name]}")
    problems.extend(f"{name}: missing from {dist}" for name in subjects if name not in files)
    return problems
