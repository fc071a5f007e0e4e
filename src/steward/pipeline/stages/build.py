"""Build: sdist and wheel with `python -m build` from the sealed source, then seal `dist/`.

SOURCE_DATE_EPOCH is the release's, so reproducible backends (hatchling, flit, poetry-core)
give byte-identical artifacts on every run; the optional check builds twice to prove it.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from steward.errors import ReleaseError
from steward.pipeline import archive
from steward.pipeline.context import Context
from steward.pipeline.stages.seal import SOURCE
from steward.pipeline.state import StageRecord

DIST = "dist.tar"


def _command(ctx: Context, tree: Path, outdir: Path) -> list[str]:
    cmd = [sys.executable, "-m", "build", "--outdir", str(outdir)]
    if not ctx.cfg.build_isolation:
        cmd.append("--no-isolation")
    return [*cmd, str(tree)]


def artifact_hashes(dist: Path) -> dict[str, str]:
    return {p.name: archive.sha256_file(p) for p in sorted(dist.iterdir()) if p.is_file()}


class BuildStage:
    name = "build"
    title = "Build and seal artifacts"

    def plan(self, ctx: Context) -> list[str]:
        cmd = _command(ctx, ctx.work("build"), ctx.work("build-dist"))
        lines = [
            f"restore {SOURCE} into a clean directory after checking its sha256",
            f"run: SOURCE_DATE_EPOCH={ctx.epoch} {shlex.join(cmd)}",
        ]
        if ctx.cfg.reproducibility_check:
            lines.append("build a second time from a fresh restore and compare every hash")
        lines.append(f"seal dist/ to {ctx.dir / DIST} + sha256")
        return lines

    def _build(self, ctx: Context, name: str) -> Path:
        src, sha = ctx.sealed("seal", SOURCE, self.name)
        tree = archive.restore(src, sha, ctx.work(name), self.name)
        outdir = ctx.work(name + "-dist")
        if outdir.exists():
            shutil.rmtree(outdir)
        proc = subprocess.run(
            _command(ctx, tree, outdir),
            cwd=tree,
            env=ctx.base_env(),
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            out = (proc.stdout + proc.stderr).decode(errors="replace").strip()
            raise ReleaseError(f"stage build: python -m build failed: {out[-1500:]}")
        return outdir

    def run(self, ctx: Context, rec: StageRecord) -> None:
        dist = self._build(ctx, "build")
        hashes = artifact_hashes(dist)
        if not hashes:
            raise ReleaseError("stage build: the build produced no artifacts")
        if ctx.cfg.reproducibility_check:
            again = artifact_hashes(self._build(ctx, "build-check"))
            differ = sorted(
                n for n in hashes.keys() | again.keys() if hashes.get(n) != again.get(n)
            )
            rec.details["reproducible"] = not differ
            if differ:
                raise ReleaseError(
                    "stage build: not reproducible, these artifacts differ between two builds: "
                    + ", ".join(differ)
                )
        rec.details["artifacts"] = hashes
        rec.outputs[DIST] = archive.create(dist, ctx.dir / DIST, ctx.epoch)
        for name, sha in hashes.items():
            ctx.echo(f"  built {name} sha256 {sha}")

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        archive.verify(ctx.dir / DIST, rec.outputs[DIST], self.name)
