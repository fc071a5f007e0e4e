"""Seal: bump the version in a copy of the release commit and archive it deterministically.

The copy comes from `git archive` of the release commit, so it holds exactly the committed
tree (dotfiles such as `.github/` included, no `.git`), whatever else sits in the worktree.
"""

from __future__ import annotations

import io
import shutil
import tarfile

from steward.errors import ConfigError
from steward.history.git import archive_tar, object_size, read_blob, tree_entry
from steward.pipeline import archive
from steward.pipeline.context import Context
from steward.pipeline.state import StageRecord
from steward.pipeline.versioning import bump
from steward.release.version_file import version_in
from steward.workspace import Limit

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

    def preflight(self, ctx: Context) -> list[str]:
        """The file the seal writes the version into, as the release commit holds it: one
        the seal would refuse (missing, a directory, too large, not UTF-8, invalid TOML, no
        version in it) is found before the release starts, not as its first stage fails."""
        vcfg = ctx.config.version
        rel = vcfg.version_file or vcfg.pyproject
        label = f"{rel} in the release commit"
        entry = tree_entry(ctx.root, ctx.commit, rel)
        if entry is None:
            return [f"seal: {label} does not exist: nowhere to write the version"]
        if entry.mode == "120000":
            return []  # a symlink: where it leads is the seal's own check
        if entry.kind != "blob":
            return [f"seal: {label} is a {entry.kind}, not a file"]
        if object_size(ctx.root, entry.sha) > Limit.PROJECT:
            return [f"seal: {label} is over {int(Limit.PROJECT)} bytes"]
        try:
            version_in(read_blob(ctx.root, entry.sha).decode("utf-8"), label, vcfg)
        except UnicodeDecodeError:
            return [f"seal: {label} is not UTF-8 text"]
        except ConfigError as exc:
            return [f"seal: {exc}"]
        return []

    def run(self, ctx: Context, rec: StageRecord) -> None:
        tree = ctx.work("seal")
        if tree.exists():
            shutil.rmtree(tree)
        tree.mkdir(parents=True)
        data = archive_tar(ctx.root, ctx.commit)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            tar.extractall(tree, filter="data")
        written = bump(tree, ctx.version, ctx.config.version)
        rec.details["version_file"] = written.resolve().relative_to(tree.resolve()).as_posix()
        rec.outputs[SOURCE] = archive.create(tree, ctx.dir / SOURCE, ctx.epoch)
        shutil.rmtree(tree)
        ctx.echo(f"  sealed {SOURCE} sha256 {rec.outputs[SOURCE]}")

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        archive.verify(ctx.dir / SOURCE, rec.outputs[SOURCE], self.name)
