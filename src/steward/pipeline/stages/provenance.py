"""Provenance: attest the sealed artifacts (in-toto + SLSA) and sign it (DSSE, Ed25519)."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from steward.errors import ConfigError, ReleaseError, TamperedArtifactError
from steward.history.git import remote_get_url as remote_url
from steward.pipeline import archive, dsse, provenance
from steward.pipeline.context import Context
from steward.pipeline.stages.build import DIST, artifact_hashes
from steward.pipeline.stages.seal import SOURCE
from steward.pipeline.state import StageRecord
from steward.workspace import Limit, read_bytes

ATTESTATION = "multiple.intoto.jsonl"
PUBLIC_KEY = "provenance.pub.pem"


def signing_key(ctx: Context) -> Ed25519PrivateKey:
    """The Ed25519 key from the configured file (inside the checkout, a regular file:
    `steward.workspace`), else from the environment variable."""
    cfg = ctx.cfg
    if cfg.signing_key_file:
        path = ctx.workspace().config_path(cfg.signing_key_file, "release.signing_key_file")
        return dsse.load_private_key(read_bytes(path, Limit.KEY, "signing key", error=ConfigError))
    pem = ctx.env.get(cfg.signing_key_env)
    if not pem:
        raise ReleaseError(
            f"stage provenance: no signing key: set {cfg.signing_key_env} to a PEM Ed25519 key "
            "or release.signing_key_file (openssl genpkey -algorithm ed25519)"
        )
    return dsse.load_private_key(pem.encode())


class ProvenanceStage:
    name = "provenance"
    title = "Attest and sign"

    def plan(self, ctx: Context) -> list[str]:
        where = ctx.cfg.signing_key_file or f"${ctx.cfg.signing_key_env}"
        return [
            f"restore {DIST} after checking its sha256",
            "in-toto v1 Statement, SLSA v1 provenance: subjects = artifacts' sha256",
            f"sign the DSSE envelope with the Ed25519 key from {where}",
            f"write {ctx.dir / ATTESTATION} and {ctx.dir / PUBLIC_KEY}",
        ]

    def run(self, ctx: Context, rec: StageRecord) -> None:
        src, sha = ctx.sealed("build", DIST, self.name)
        dist = archive.restore(src, sha, ctx.work("provenance"), self.name)
        key = signing_key(ctx)
        source_sha = ctx.state.stage("seal").outputs.get(SOURCE, "")
        stmt = provenance.statement(
            artifact_hashes(dist),
            version=ctx.version,
            commit=ctx.commit,
            source_uri=f"git+{remote_url(ctx.root, ctx.cfg.remote)}@refs/tags/{ctx.tag}",
            builder_id=ctx.cfg.builder_id,
            epoch=ctx.epoch,
            source_sha256=source_sha,
            invocation_id=f"{ctx.tag}@{ctx.commit}",
        )
        payload = json.dumps(stmt, separators=(",", ":"), sort_keys=True).encode()
        envelope = dsse.sign(payload, key)
        out = ctx.dir / ATTESTATION
        out.write_text(dsse.dumps_line(envelope), encoding="utf-8")
        (ctx.dir / PUBLIC_KEY).write_bytes(dsse.public_pem(key.public_key()))
        rec.outputs[ATTESTATION] = archive.sha256_file(out)
        rec.outputs[PUBLIC_KEY] = archive.sha256_file(ctx.dir / PUBLIC_KEY)
        rec.details["keyid"] = envelope["signatures"][0]["keyid"]
        ctx.echo(f"  signed {ATTESTATION} (key {rec.details['keyid'][:16]})")

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        """The attestation and the public key it is checked with are both still as made."""
        archive.verify(ctx.dir / ATTESTATION, rec.outputs[ATTESTATION], self.name)
        key = ctx.dir / PUBLIC_KEY
        if PUBLIC_KEY in rec.outputs:
            archive.verify(key, rec.outputs[PUBLIC_KEY], self.name)
        elif not key.is_file():  # a state recorded before the key's hash was
            raise TamperedArtifactError(f"stage {self.name}: {key} is missing")
