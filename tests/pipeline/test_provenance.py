"""Signed provenance: the DSSE PAE, `release verify` refusing every change, and openssl as a
second verifier of the same signature."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from steward.cli.main import main
from steward.errors import TamperedArtifactError
from steward.pipeline import dsse, provenance
from steward.pipeline.verify import verify_dist

ARTIFACTS = {"demo-1.0.0.tar.gz": b"sdist bytes", "demo-1.0.0-py3-none-any.whl": b"wheel bytes"}


def test_pae_matches_the_dsse_specification_example() -> None:
    # github.com/secure-systems-lab/dsse protocol.md, "Test vector"
    assert dsse.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(dist dir, provenance file, public key file) for two small artifacts."""
    dist = tmp_path / "dist"
    dist.mkdir()
    for name, data in ARTIFACTS.items():
        (dist / name).write_bytes(data)
    stmt = provenance.statement(
        {name: hashlib.sha256(data).hexdigest() for name, data in ARTIFACTS.items()},
        version="1.0.0",
        commit="a" * 40,
        source_uri="git+https://example.com/demo@refs/tags/v1.0.0",
        builder_id="https://example.com/builder",
        epoch=1_700_000_000,
        source_sha256="b" * 64,
        invocation_id="v1.0.0@" + "a" * 40,
    )
    key = Ed25519PrivateKey.generate()
    envelope = dsse.sign(json.dumps(stmt).encode(), key)
    prov = tmp_path / "multiple.intoto.jsonl"
    prov.write_text(dsse.dumps_line(envelope))
    pub = tmp_path / "pub.pem"
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return dist, prov, pub


def test_statement_has_the_in_toto_and_slsa_shape(signed: tuple[Path, Path, Path]) -> None:
    _, prov, _ = signed
    envelope = json.loads(prov.read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    stmt = json.loads(base64.b64decode(envelope["payload"]))
    assert stmt["_type"] == "https://in-toto.io/Statement/v1"
    assert stmt["predicateType"] == "https://slsa.dev/provenance/v1"
    assert stmt["subject"] == [
        {
            "name": "demo-1.0.0-py3-none-any.whl",
            "digest": {"sha256": hashlib.sha256(b"wheel bytes").hexdigest()},
        },
        {
            "name": "demo-1.0.0.tar.gz",
            "digest": {"sha256": hashlib.sha256(b"sdist bytes").hexdigest()},
        },
    ]
    build = stmt["predicate"]["buildDefinition"]
    assert build["externalParameters"] == {"version": "1.0.0", "commit": "a" * 40}
    assert build["resolvedDependencies"][0]["digest"] == {"gitCommit": "a" * 40}
    assert stmt["predicate"]["runDetails"]["builder"] == {"id": "https://example.com/builder"}


def test_verify_accepts_the_untouched_release(signed: tuple[Path, Path, Path]) -> None:
    result = verify_dist(*signed)
    assert result.subjects == {n: hashlib.sha256(d).hexdigest() for n, d in ARTIFACTS.items()}


def test_verify_refuses_a_changed_dist_file(signed: tuple[Path, Path, Path]) -> None:
    dist, prov, pub = signed
    (dist / "demo-1.0.0.tar.gz").write_bytes(b"sdist bytes, with a backdoor")
    with pytest.raises(TamperedArtifactError, match=r"demo-1\.0\.0\.tar\.gz: sha256"):
        verify_dist(dist, prov, pub)


def test_verify_refuses_an_extra_or_missing_file(signed: tuple[Path, Path, Path]) -> None:
    dist, prov, pub = signed
    (dist / "evil-1.0.0.tar.gz").write_bytes(b"x")
    with pytest.raises(TamperedArtifactError, match="not in the provenance"):
        verify_dist(dist, prov, pub)
    (dist / "evil-1.0.0.tar.gz").unlink()
    (dist / "demo-1.0.0-py3-none-any.whl").unlink()
    with pytest.raises(TamperedArtifactError, match="missing"):
        verify_dist(dist, prov, pub)


def test_verify_sees_files_in_subdirectories_and_links(signed: tuple[Path, Path, Path]) -> None:
    """A wheel hidden one directory down was ignored: every file, at any depth, counts."""
    dist, prov, pub = signed
    (dist / "extra").mkdir()
    (dist / "extra" / "evil-1.0.0-py3-none-any.whl").write_bytes(b"x")
    with pytest.raises(
        TamperedArtifactError, match=r"extra/evil-1\.0\.0-py3-none-any\.whl: not in"
    ):
        verify_dist(dist, prov, pub)
    (dist / "extra" / "evil-1.0.0-py3-none-any.whl").unlink()
    (dist / "extra" / "link").symlink_to(dist / "demo-1.0.0.tar.gz")
    with pytest.raises(TamperedArtifactError, match=r"extra/link: a link, not a file"):
        verify_dist(dist, prov, pub)


def test_verify_refuses_a_provenance_file_that_is_not_text(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    dist, prov, pub = signed
    prov.write_bytes(b"\xff\xfe" + prov.read_bytes())
    with pytest.raises(TamperedArtifactError, match="not UTF-8"):
        verify_dist(dist, prov, pub)
    with pytest.raises(SystemExit) as exc:
        main(["release", "verify", str(dist), "--provenance", str(prov), "--public-key", str(pub)])
    err = capsys.readouterr().err
    assert exc.value.code == 1
    assert "not UTF-8" in err
    assert "Traceback" not in err


def test_verify_refuses_a_changed_payload(signed: tuple[Path, Path, Path]) -> None:
    dist, prov, pub = signed
    envelope = json.loads(prov.read_text())
    stmt = json.loads(base64.b64decode(envelope["payload"]))
    # the attacker makes the statement match a malicious sdist, keeping the signature
    (dist / "demo-1.0.0.tar.gz").write_bytes(b"malicious")
    stmt["subject"][1]["digest"]["sha256"] = hashlib.sha256(b"malicious").hexdigest()
    envelope["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()
    prov.write_text(json.dumps(envelope))
    with pytest.raises(TamperedArtifactError, match="signature does not verify"):
        verify_dist(dist, prov, pub)


def test_verify_refuses_another_key(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    dist, prov, _ = signed
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(TamperedArtifactError):
        verify_dist(dist, prov, other)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_openssl_verifies_the_signature_over_the_pae(
    signed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, prov, pub = signed
    envelope = json.loads(prov.read_text())
    payload = base64.b64decode(envelope["payload"])
    ptype = envelope["payloadType"].encode()
    # PAE written out by hand from the DSSE specification, not with steward's helper
    pae = b"DSSEv1 " + str(len(ptype)).encode() + b" " + ptype + b" "
    pae += str(len(payload)).encode() + b" " + payload
    (tmp_path / "pae.bin").write_bytes(pae)
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(envelope["signatures"][0]["sig"]))

    def openssl(data: Path) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [
                "openssl",
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                str(pub),
                "-rawin",
                "-in",
                str(data),
                "-sigfile",
                str(tmp_path / "sig.bin"),
            ],
            capture_output=True,
            check=False,
        )

    good = openssl(tmp_path / "pae.bin")
    assert good.returncode == 0, good.stderr
    assert b"Signature Verified Successfully" in good.stdout
    (tmp_path / "bad.bin").write_bytes(pae.replace(b"1.0.0", b"1.0.1"))
    assert openssl(tmp_path / "bad.bin").returncode != 0
