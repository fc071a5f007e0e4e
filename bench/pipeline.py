"""The sealed release pipeline on the sample project, end to end (quality excluded), with the
Lambda layer, SAR and docs stages.

Real parts, started here: a git repository with a bare remote, pypiserver with htpasswd
upload auth on 127.0.0.1 (also serving the layer's compiled dependency), hatchling builds (no
isolation: the build backend is installed), pip installing the layers for x86_64 and arm64,
Lambda and STS on a moto server with two accounts (beta: two regions, prod: three), SAR
through botocore Stubbers (moto has no SAR; every request is validated against botocore's
model), and MkDocs + mike pushing to the bare remote and the layer ARN PR against the local
GitHub test server.

Each stage's wall time is printed beside the playbook's published time for the same steps
("Release process visualized" Gantt), with the ratio playbook / steward. The playbook
draws every step faster than 8 s as 8 s (its own comment), so those ratios are upper bounds.
The playbook's chart runs from the release commit (10:00) to "Release complete" (10:31):
about 31 minutes end to end, quality checks (2.2 minutes) included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.pipeline.layer_support import (
    BETA,
    PROD,
    Accounts,
    SarStubs,
    layer_config,
    layer_project,
    reset_moto,
    speedups_wheels,
)
from tests.support.pypi_index import running_index

from steward.config.loader import load_config
from steward.config.pipeline import STAGES
from steward.e2e.emulator import start_moto
from steward.pipeline.runner import RunOptions, run_release

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "pipeline" / "sample_project"
TARGET_SECONDS = 30.0
PLAYBOOK_END_TO_END = 31 * 60  # 10:00 release commit -> 10:31 release complete
# The playbook's Gantt, in seconds per step, grouped as steward's stages.
PLAYBOOK = {
    "seal": ("bump 8s + prevent tampering 43s", 8 + 43),
    "build": ("checksum 8s + build 39s + seal 8s", 8 + 39 + 8),
    "provenance": ("attest 8s + sign 8s", 8 + 8),
    "publish": ("checksum 8s + temp creds 8s + publish 29s", 8 + 8 + 29),
    "tag": ("checksum, tag, bump, PR, upload 5 x 8s", 5 * 8),
    "layer-build": ("layer build (x86_64+ARM) 6m", 360),
    "layer-beta": ("layer deploy beta 6.3m", 378),
    "layer-prod": ("layer deploy prod 6.3m", 378),
    "sar-beta": ("SAR deploy beta 2.2m", 132),
    "sar-prod": ("SAR deploy prod 2.2m", 132),
    "docs": ("create PR (layer ARN) 8s + versioned docs 2.2m", 8 + 132),
}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
SAR_REGIONS = {"beta": ["us-east-1"], "prod": ["us-east-1", "eu-west-1"]}
DOCS_INDEX = """# sample

## Lambda layer

<!-- steward:layer-arns:start -->
<!-- steward:layer-arns:end -->
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True
    )


def _stages() -> list[str]:
    wanted = {"seal", "build", "provenance", "publish", "tag", *list(PLAYBOOK)}
    return [s for s in STAGES if s in wanted]


def _sample(base: Path, simple_url: str, port: int, github: bool) -> Path:
    root = base / "repo"
    shutil.copytree(SAMPLE, root)
    layer_project(root)
    (root / ".gitignore").write_text(".steward/\nsite/\n")
    config = (
        "release:\n"
        f"  stages: [{', '.join(_stages())}]\n"
        "  build_isolation: false\n"
        f"  index_url: http://127.0.0.1:{port}/\n"
        f"  index_simple_url: {simple_url}\n" + layer_config(simple_url, sar=True)
    )
    # the docs stage: MkDocs + mike pushing to the bare remote
    (root / "mkdocs.yml").write_text("site_name: sample\nnav:\n  - Home: index.md\n")
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text(DOCS_INDEX)
    config += "  docs:\n    enabled: true\n"
    if github:
        config += "    layer_arns: {file: docs/index.md, format: markdown}\n"
        config += "  repository: octo-org/sample\n"
    (root / ".github" / "steward.yml").write_text(config)
    _git(base, "init", "-q", "--bare", "remote.git")
    _git(root, "init", "-q", "-b", "develop")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "feat: sample")
    _git(root, "remote", "add", "origin", str(base / "remote.git"))
    _git(root, "push", "-q", "origin", "develop")
    return root


def _sar_stubs(stubs: SarStubs) -> None:
    """Each SAR region: no application yet, then CreateApplication and the public policy
    (expected parameters are not pinned here; the tests pin them)."""
    for tier, account in (("beta", BETA), ("prod", PROD)):
        for region in SAR_REGIONS[tier]:
            stub = stubs.stub("serverlessrepo", tier, region)
            app = f"arn:aws:serverlessrepo:{region}:{account}:applications/sample-layer"
            stub.add_response("list_applications", {"Applications": []})
            stub.add_response("create_application", {"ApplicationId": app})
            stub.add_response("put_application_policy", {"Statements": []})


def _github(stack: ExitStack) -> tuple[Any, dict[str, Any]]:
    """The local GitHub test server the docs stage opens its ARN PR on."""
    from tests.pipeline.github_releases import ReleaseGitHub

    from steward.github.client import GitHubClient

    server = stack.enter_context(ReleaseGitHub())
    return (lambda: GitHubClient(server.token, server.url, max_retries=0)), {
        "GITHUB_REPOSITORY": "octo-org/sample"
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        base = Path(tmp)
        wheels = speedups_wheels(base / "wheels")
        emulator = start_moto()
        stack.callback(emulator.stop)
        reset_moto(emulator)
        accounts = Accounts(emulator, base)
        github, github_env = _github(stack)
        index = stack.enter_context(running_index(base, "bench", "bench-pw"))
        for wheel in wheels:
            shutil.copy(wheel, index.packages)
        root = _sample(base, index.simple_url, index.port, github is not None)
        key = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {
            **os.environ,
            "PATH": path,  # mike and mkdocs of this environment, for the docs stage
            **GIT_ENV,
            **accounts.env(),
            **github_env,
            "STEWARD_SIGNING_KEY": key.decode(),
            "TWINE_USERNAME": "bench",
            "TWINE_PASSWORD": "bench-pw",
        }
        stubs = SarStubs(env)
        _sar_stubs(stubs)
        start = time.perf_counter()
        state = run_release(
            root,
            load_config(root / ".github" / "steward.yml"),
            RunOptions(version="1.0.0", env=env, echo=lambda _m: None, aws=stubs, github=github),
        )
        total = time.perf_counter() - start
        stubs.assert_done()
    print(f"{'stage':<12} {'steward s':>10} {'playbook s':>11} {'ratio':>7}  playbook steps")
    for name, rec in state.stages.items():
        steps, ref = PLAYBOOK[name]
        secs = rec.seconds or 0.0
        print(f"{name:<12} {secs:>10.2f} {ref:>11d} {ref / max(secs, 1e-3):>6.0f}x  {steps}")
        for task in rec.details.get("tasks", []):
            if task.get("title") == "parity":  # layer-prod's last step (layer_govcloud_verify)
                took = float(task["finished"]) - float(task["started"])
                print(f"{'  parity':<12} {took:>10.2f} {'':>11} {'':>7}  (inside {name})")
    ref_total = sum(PLAYBOOK[n][1] for n in state.stages)
    print(
        f"{'total':<12} {total:>10.2f} {ref_total:>11d} {ref_total / total:>6.0f}x  "
        "(sum of the playbook's steps for these stages; steward end to end, including state "
        "writes and the report)"
    )
    print(
        f"{'chart':<12} {total:>10.2f} {PLAYBOOK_END_TO_END:>11d} "
        f"{PLAYBOOK_END_TO_END / total:>6.0f}x  (the playbook's chart, 10:00 to 10:31, "
        "quality checks included)"
    )
    print("(the playbook graphs steps faster than 8s as 8s: ratios on those are upper bounds)")
    print(f"machine load (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    verdict = "met" if total < TARGET_SECONDS else "MISSED"
    print(f"target < {TARGET_SECONDS:.0f}s end to end: {verdict}")
