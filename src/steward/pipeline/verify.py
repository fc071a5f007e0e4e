"""`steward release verify`: check a dist directory against signed provenance.

Independent of the signing side: it reads the `.intoto.jsonl` file line by line, verifies
each DSSE signature over the PAE with the given Ed25519 public key, checks the in-toto
Statement's type and SLSA predicate type, and compares every artifact's sha256 with the
subjects. Any difference is an error; nothing is trusted from the dist directory itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from steward import limits
from steward.errors import TamperedArtifactError, UsageError
from steward.pipeline import dsse, provenance
from steward.workspace import Limit, Workspace, read_bytes

MAX_PROVENANCE_BYTES = int(Limit.PROVENANCE)  # a release's attestation is kilobytes


@dataclass(frozen=True, slots=True)
class Verified:
    subjects: dict[str, str]
    envelopes: int


def verify_dist(dist: Path, provenance_file: Path, public_key_file: Path) -> Verified:
    # Typed on the command line: anywhere, but regular files (a FIFO would block the read).
    ws = Workspace(Path())
    ws.cli_path(provenance_file, "--provenance")
    ws.cli_path(public_key_file, "--public-key")
    ws.cli_path(dist, "DIST_DIR", kind="dir")
    key = dsse.load_public_key(
        read_bytes(public_key_file, Limit.KEY, "public key", error=UsageError)
    )
    raw = read_bytes(
        provenance_file, MAX_PROVENANCE_BYTES, "provenance", error=TamperedArtifactError
    )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TamperedArtifactError(
            f"{provenance_file}: not UTF-8 text (byte {exc.start}): not a provenance file"
        ) from None
    subjects: dict[str, str] = {}
    count = 0
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        envelope = limits.loads_json(
            line, f"{provenance_file}:{n}: the envelope", TamperedArtifactError
        )
        payload_type, payload = dsse.open_envelope(envelope, key)
        if payload_type != dsse.INTOTO_PAYLOAD_TYPE:
            raise TamperedArtifactError(
                f"{provenance_file}:{n}: payloadType {payload_type!r} is not in-toto"
            )
        subjects.update(provenance.check_statement(payload))
        count += 1
    if not count:
        raise TamperedArtifactError(f"{provenance_file}: no envelopes")
    problems = provenance.check_artifacts(subjects, dist)
    if problems:
        raise TamperedArtifactError("artifacts do not match the provenance: " + "; ".join(problems))
    return Verified(subjects, count)
