"""Publish: upload the sealed artifacts with twine, skipping files the index already has.

Credentials come from the environment variables the config names and reach twine only
through its own environment; they are never printed (twine output is redacted).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from packaging.version import Version

from steward.errors import ReleaseError
from steward.pipeline import archive, trusted_publishing
from steward.pipeline.context import Context
from steward.pipeline.index import existing_files, project_of
from steward.pipeline.stages.build import DIST, artifact_hashes
from steward.pipeline.state import StageRecord

NULL_KEYRING = "keyring.backends.null.Keyring"


def _plan_uploads(ctx: Context, hashes: dict[str, str]) -> tuple[list[str], list[str]]:
    """(to upload, already there) for ``hashes``; a different file under a name is an error."""
    upload: list[str] = []
    skip: list[str] = []
    listed: dict[str, dict[str, str]] = {}
    for name, sha in sorted(hashes.items()):
        project = project_of(name)
        if project not in listed:
            listed[project] = existing_files(ctx.cfg.index_simple_url, project)
        there = listed[project]
        if name not in there:
            upload.append(name)
        elif there[name] == sha:
            skip.append(name)
        else:
            raise ReleaseError(
                f"stage publish: {name} is already on the index with sha256 {there[name]}, "
                f"but the sealed artifact's is {sha}: an index never takes a file back, "
                "release a new version"
            )
    return upload, skip


class PublishStage:
    name = "publish"
    title = "Publish to the index"

    def preflight(self, ctx: Context) -> list[str]:
        """A version the index would refuse, found before it is built and signed."""
        version = Version(ctx.version)
        if version.local is None:
            return []
        return [
            f"publish: {ctx.version} has a local version label (+{version.local}), which PyPI "
            f"refuses (PEP 440: local versions are not for public indexes); release "
            f"{version.public}, or --skip publish"
        ]

    def plan(self, ctx: Context) -> list[str]:
        cfg = ctx.cfg
        return [
            f"restore {DIST} after checking its sha256",
            f"read {cfg.index_simple_url}: skip files already there with the same sha256",
            f"twine upload --repository-url {cfg.index_url} (user ${cfg.index_username_env}, "
            f"password ${cfg.index_password_env}; when that is unset in GitHub Actions with "
            "id-token: write, a token minted by trusted publishing)",
        ]

    def run(self, ctx: Context, rec: StageRecord) -> None:
        src, sha = ctx.sealed("build", DIST, self.name)
        dist = archive.restore(src, sha, ctx.work("publish"), self.name)
        hashes = artifact_hashes(dist)
        upload, skip = _plan_uploads(ctx, hashes)
        for name in skip:
            ctx.echo(f"  {name} already on the index with the same sha256: skipped")
        if upload:
            self._twine(ctx, [dist / n for n in upload])
            for name in upload:
                ctx.echo(f"  uploaded {name}")
        rec.details.update({"uploaded": upload, "skipped": skip, "artifacts": hashes})

    def _twine(self, ctx: Context, files: list[Path]) -> None:
        cfg = ctx.cfg
        user = ctx.env.get(cfg.index_username_env, "")
        password = ctx.env.get(cfg.index_password_env, "")
        if not password and trusted_publishing.available(ctx.env):
            user, password = "__token__", trusted_publishing.upload_token(cfg.index_url, ctx.env)
            ctx.echo(f"  trusted publishing: minted a short-lived token at {cfg.index_url}")
        if not password:
            raise ReleaseError(
                f"stage publish: no index credentials: set {cfg.index_password_env} "
                f"(and {cfg.index_username_env}), or publish from GitHub Actions with "
                "`permissions: id-token: write` and a trusted publisher on the index"
            )
        env = {
            **ctx.env,
            "TWINE_USERNAME": user or "__token__",
            "TWINE_PASSWORD": password,
            "PYTHON_KEYRING_BACKEND": NULL_KEYRING,
        }
        cmd = [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            cfg.index_url,
            *map(str, files),
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
        if proc.returncode != 0:
            out = (proc.stdout + proc.stderr).decode(errors="replace")
            for secret in (password, user):
                if secret:
                    out = out.replace(secret, "***")
            raise ReleaseError(f"stage publish: twine upload failed: {out.strip()[-1200:]}")

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        hashes: dict[str, str] = rec.details.get("artifacts", {})
        upload, _ = _plan_uploads(ctx, hashes)
        if upload:
            raise ReleaseError(
                "stage publish: recorded as done but the index lacks " + ", ".join(upload)
            )
