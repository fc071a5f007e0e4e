"""Quality: the configured command (tests, lint) in a clean restore of the sealed source."""

from __future__ import annotations

import shlex
import subprocess

from steward.errors import ReleaseError
from steward.pipeline import archive
from steward.pipeline.context import Context
from steward.pipeline.stages.seal import SOURCE
from steward.pipeline.state import StageRecord

LOG = "quality.log"


class QualityStage:
    name = "quality"
    title = "Quality checks"

    def plan(self, ctx: Context) -> list[str]:
        return [
            f"restore {SOURCE} into a clean directory after checking its sha256",
            f"run: {shlex.join(ctx.cfg.quality_command)} (output kept in {ctx.dir / LOG})",
        ]

    def run(self, ctx: Context, rec: StageRecord) -> None:
        src, sha = ctx.sealed("seal", SOURCE, self.name)
        tree = archive.restore(src, sha, ctx.work("quality"), self.name)
        log = ctx.dir / LOG
        try:
            proc = subprocess.run(
                [arg.replace("{version}", ctx.version) for arg in ctx.cfg.quality_command],
                cwd=tree,
                env=ctx.base_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=ctx.cfg.quality_timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise ReleaseError(f"stage quality: cannot run the quality command: {exc}") from None
        except subprocess.TimeoutExpired:
            raise ReleaseError(
                f"stage quality: command ran over {ctx.cfg.quality_timeout:.0f}s"
            ) from None
        log.write_bytes(proc.stdout)
        rec.details["returncode"] = proc.returncode
        if proc.returncode != 0:
            tail = proc.stdout.decode(errors="replace").strip().splitlines()[-5:]
            raise ReleaseError(
                f"stage quality: command exited {proc.returncode} (full output in {log}): "
                + " | ".join(tail)
            )
        rec.outputs[LOG] = archive.sha256_file(log)

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        archive.verify(ctx.dir / LOG, rec.outputs[LOG], self.name)
