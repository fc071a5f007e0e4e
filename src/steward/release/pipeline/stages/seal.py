"""Seal: bump the version in a copy of the release commit and archive it deterministically.

The copy comes from `git archive` of the release commit, so it holds exactly the committed
tree (dotfiles such as `.github/` included, no `.git`), whatever else sits in the worktree.
"""

from __future__ import annotations

import io
import shutil
import tarfile

from steward.history.git import git_bytes
from steward.release.pipeline import archive
from steward.release.pipeline.context import Context
from steward.release.pipeline.state import StageRecord
from steward.release.pipeline.versioning import bump

SOURCE = "source.tar"


class SealStage:
    name = "seal"
    title = "Bump version and seal source"

    def plan(self, ctx: Context) -> list[str]:
        return [
            f"copy commit {ctx.commit[:12]} (git archive; dotfiles kept, no .git)",
            f"write version {ctx.version} where the project keeps it",
            f"archive it to {ctx.dir / SOURCE} (sorted, mtime {ctx.epoch}, owner 0) + sha256",
        ]

    def run(self, ctx: Context, rec: StageRecord) -> None:
        tree = ctx.work("seal")
        if tree.exists():
            shutil.rmtree(tree)
        tree.mkdir(parents=True)
        data = git_bytes(ctx.root, "archive", "--format=tar", ctx.commit)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            tar.extractall(tree, filter="data")
        written = bump(tree, ctx.version, ctx.config.version)
        rec.details["version_file"] = written.resolve().relative_to(tree.resolve()).as_posix()
        rec.outputs[SOURCE] = archive.create(tree, ctx.dir / SOURCE, ctx.epoch)
        shutil.rmtree(tree)
        ctx.echo(f"  sealed {SOURCE} sha256 {rec.outputs[SOURCE]}")

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        archive.verify(ctx.dir / SOURCE, rec.outputs[SOURCE], self.name)
