"""DSSE envelopes (github.com/secure-systems-lab/dsse, protocol.md) with Ed25519 keys.

Signing and verifying both go through the pre-authentication encoding (PAE), written here
from the specification:

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

where LEN is the ASCII decimal byte length and SP one space. The signature covers the PAE
bytes, never the JSON, so a verifier needs no canonical JSON.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from steward.errors import ReleaseError, TamperedArtifactError

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ReleaseError(f"signing key is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseError("signing key is not an Ed25519 key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ReleaseError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ReleaseError("public key is not an Ed25519 key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def keyid(key: Ed25519PublicKey) -> str:
    """sha256 of the raw 32-byte public key: names the key without revealing anything."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign(
    payload: bytes, key: Ed25519PrivateKey, payload_type: str = INTOTO_PAYLOAD_TYPE
) -> dict[str, Any]:
    sig = key.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": keyid(key.public_key()), "sig": base64.b64encode(sig).decode("ascii")}
        ],
    }


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise TamperedArtifactError(f"DSSE envelope: {what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        try:  # the spec allows URL-safe base64 too
            return base64.urlsafe_b64decode(value)
        except ValueError:
            raise TamperedArtifactError(f"DSSE envelope: {what} is not base64") from None


def open_envelope(envelope: Any, key: Ed25519PublicKey) -> tuple[str, bytes]:
    """Verify ``envelope`` with ``key``; return (payloadType, payload) when a signature holds."""
    if not isinstance(envelope, dict):
        raise TamperedArtifactError("DSSE envelope is not a JSON object")
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str):
        raise TamperedArtifactError("DSSE envelope has no payloadType")
    payload = _b64(envelope.get("payload"), "payload")
    sigs = envelope.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise TamperedArtifactError("DSSE envelope carries no signatures")
    message = pae(payload_type, payload)
    for entry in sigs:
        if not isinstance(entry, dict):
            continue
        try:
            key.verify(_b64(entry.get("sig"), "signature"), message)
        except (InvalidSignature, TamperedArtifactError):
            continue
        return payload_type, payload
    raise TamperedArtifactError(
        "DSSE signature does not verify with the given public key: the provenance was "
        "changed or signed by another key"
    )


def dumps_line(envelope: dict[str, Any]) -> str:
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True) + "\n"
