"""Real parts for the pipeline tests: a git repository of the sample project with a bare
remote, a pypiserver with htpasswd upload auth on a free port, and an Ed25519 key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from steward.e2e.emulator import Emulator, start_moto
from tests.pipeline.layer_support import reset_moto, speedups_wheels
from tests.support.pypi_index import Index, running_index

SAMPLE = Path(__file__).parent / "sample_project"
COMMIT_EPOCH = 1_700_000_000  # the sample's release commit date (hand-picked)
USER, PASSWORD = "uploader", "s3cret-upload-pw"


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "GIT_AUTHOR_DATE": f"{COMMIT_EPOCH} +0000",
        "GIT_COMMITTER_DATE": f"{COMMIT_EPOCH} +0000",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        **(env or {}),
    }
    out = subprocess.run(["git", *args], cwd=cwd, env=full, capture_output=True, check=True)
    return out.stdout.decode().strip()


@pytest.fixture
def pypi(tmp_path: Path) -> Iterator[Index]:
    """pypiserver on 127.0.0.1: uploads need the htpasswd user, no fallback to pypi.org."""
    with running_index(tmp_path, USER, PASSWORD) as index:
        yield index


@dataclass
class Sample:
    root: Path
    remote: Path
    commit: str
    key_pem: str
    public_pem: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "STEWARD_SIGNING_KEY": self.key_pem,
            "TWINE_USERNAME": USER,
            "TWINE_PASSWORD": PASSWORD,
            "GIT_CONFIG_GLOBAL": os.devnull,
        }

    @property
    def release_dir(self) -> Path:
        return self.root / ".steward" / "releases"


FULL = "[seal, quality, build, provenance, publish, tag]"


def write_config(root: Path, index: Index | None, extra: str = "", stages: str = FULL) -> None:
    simple = index.simple_url if index else "http://127.0.0.1:9/simple/"
    upload = index.upload_url if index else "http://127.0.0.1:9/"
    (root / ".github" / "steward.yml").write_text(
        "release:\n"
        f"  stages: {stages}\n"
        f"  quality_command: [{sys.executable!r}, check.py, '{{version}}']\n"
        "  build_isolation: false\n"
        f"  index_url: {upload}\n"
        f"  index_simple_url: {simple}\n"
        # the bump PR (on by default) needs GitHub: the tests that have one turn it on
        + ("" if "bump_pr" in extra else "  bump_pr: false\n")
        + extra
    )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Emulator]:
    """One moto server (Lambda on moto's simple backend: no Docker) per test process."""
    emulator = start_moto()
    yield emulator
    emulator.stop()


@pytest.fixture
def moto(moto_server: Emulator) -> Emulator:
    """The moto server, emptied: every account, region and queued invoke result reset."""
    reset_moto(moto_server)
    return moto_server


@pytest.fixture(scope="session")
def speedups(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """sample-speedups' compiled (x86_64, aarch64) and pure wheels, built once."""
    return speedups_wheels(tmp_path_factory.mktemp("speedups"))


def make_sample(
    tmp_path: Path,
    index: Index | None,
    extra: str = "",
    stages: str = FULL,
    prepare: Callable[[Path], None] | None = None,
) -> Sample:
    root = tmp_path / "repo"
    shutil.copytree(SAMPLE, root)
    if prepare is not None:
        prepare(root)
    write_config(root, index, extra, stages)
    (root / ".gitignore").write_text(".steward/\n")
    git(root, "init", "-q", "-b", "develop")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feat: sample")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    git(root, "push", "-q", "origin", "develop")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    pub = tmp_path / "pub.pem"
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return Sample(root, remote, git(root, "rev-parse", "HEAD"), pem, pub)
