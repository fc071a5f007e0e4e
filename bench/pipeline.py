"""The sealed release pipeline on the sample project, end to end (quality excluded).

Real parts, started here: a git repository with a bare remote, pypiserver with htpasswd
upload auth on 127.0.0.1, hatchling builds (no isolation: the build backend is installed).
Each stage's wall time is printed beside the playbook's published time for the same step
("Release process visualized" Gantt), with the ratio playbook / steward. The playbook
draws every step faster than 8 s as 8 s (its own comment), so those ratios are upper bounds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.support.pypi_index import running_index

from steward.config.loader import load_config
from steward.release.pipeline.runner import RunOptions, run_release

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "pipeline" / "sample_project"
TARGET_SECONDS = 15.0
# The playbook's Gantt, in seconds per step, grouped as steward's stages.
PLAYBOOK = {
    "seal": ("bump 8s + prevent tampering 43s", 8 + 43),
    "build": ("checksum 8s + build 39s + seal 8s", 8 + 39 + 8),
    "provenance": ("attest 8s + sign 8s", 8 + 8),
    "publish": ("checksum 8s + temp creds 8s + publish 29s", 8 + 8 + 29),
    "tag": ("checksum, tag, bump, PR, upload 5 x 8s", 5 * 8),
}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True
    )


def _sample(base: Path, port: int) -> Path:
    root = base / "repo"
    shutil.copytree(SAMPLE, root)
    (root / ".gitignore").write_text(".steward/\n")
    (root / ".github" / "steward.yml").write_text(
        "release:\n"
        "  stages: [seal, build, provenance, publish, tag]\n"
        "  build_isolation: false\n"
        f"  index_url: http://127.0.0.1:{port}/\n"
        f"  index_simple_url: http://127.0.0.1:{port}/simple/\n"
    )
    _git(base, "init", "-q", "--bare", "remote.git")
    _git(root, "init", "-q", "-b", "develop")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "feat: sample")
    _git(root, "remote", "add", "origin", str(base / "remote.git"))
    return root


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        with running_index(base, "bench", "bench-pw") as index:
            root = _sample(base, index.port)
            key = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            env = {
                **os.environ,
                **GIT_ENV,
                "STEWARD_SIGNING_KEY": key.decode(),
                "TWINE_USERNAME": "bench",
                "TWINE_PASSWORD": "bench-pw",
            }
            start = time.perf_counter()
            state = run_release(
                root,
                load_config(root / ".github" / "steward.yml"),
                RunOptions(version="1.0.0", env=env, echo=lambda _m: None),
            )
            total = time.perf_counter() - start
    print(f"{'stage':<11} {'steward s':>10} {'playbook s':>11} {'ratio':>7}  playbook steps")
    for name, rec in state.stages.items():
        steps, ref = PLAYBOOK[name]
        secs = rec.seconds or 0.0
        print(f"{name:<11} {secs:>10.2f} {ref:>11d} {ref / max(secs, 1e-3):>6.0f}x  {steps}")
    ref_total = sum(v[1] for v in PLAYBOOK.values())
    print(
        f"{'total':<11} {total:>10.2f} {ref_total:>11d} {ref_total / total:>6.0f}x  "
        "(end to end, including state writes and the report)"
    )
    print("(the playbook graphs steps faster than 8s as 8s: ratios on those are upper bounds)")
    verdict = "met" if total < TARGET_SECONDS else "MISSED"
    print(f"target < {TARGET_SECONDS:.0f}s end to end: {verdict}")
