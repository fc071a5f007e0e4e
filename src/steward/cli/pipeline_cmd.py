"""`steward release run|status|verify`: the sealed release pipeline's commands.

`register(group)` adds them to the `release` group (see `release_cmd.py`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from steward.cli.common import config_option
from steward.release.pipeline.config import STAGES

if TYPE_CHECKING:
    from steward.forge.client import GitHubClient

_root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The repository to release.",
)


def _github_factory() -> Callable[[], GitHubClient] | None:
    """The GitHub client maker when a token is set (stages needing GitHub check for None)."""
    from steward.cli.common import github_client

    if not (os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")):
        return None
    return github_client


@click.command("run")
@click.option("--version", "version", required=True, help="The version to release (PEP 440).")
@click.option("--prerelease", is_flag=True, help="Release a pre-release (e.g. 1.3.0a1).")
@click.option(
    "--skip",
    multiple=True,
    type=click.Choice(STAGES),
    help="Skip a stage (repeatable).",
)
@click.option("--resume", is_flag=True, help="Verify completed stages, continue from the rest.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan (stages, commands, files, index, remote) and touch nothing.",
)
@_root_option
@config_option("ROOT")
def run_cmd(  # noqa: PLR0917 (one parameter per click option)
    version: str,
    prerelease: bool,
    skip: tuple[str, ...],
    resume: bool,
    dry_run: bool,
    root: Path,
    config_file: Path | None,
) -> None:
    """Seal, check, build, attest, publish, tag and announce a release.

    Stages run in the configured order (the playbook's by default). Every stage after seal
    restores the sealed archive into a clean directory and checks its sha256 first. State
    lives in ROOT/.steward/releases/VERSION; a failed stage says how to resume.
    """
    from steward.cli.common import resolve_config
    from steward.release.pipeline.runner import RunOptions, run_release

    root = root.resolve()
    config = resolve_config(config_file, root)
    factory = _github_factory()
    opts = RunOptions(
        version=version,
        prerelease=prerelease,
        skip=skip,
        resume=resume,
        dry_run=dry_run,
        github=factory,
    )
    run_release(root, config, opts)


@click.command("status")
@click.argument("version", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the recorded state as JSON.")
@_root_option
@config_option("ROOT")
def status_cmd(version: str | None, as_json: bool, root: Path, config_file: Path | None) -> None:
    """Show recorded releases, or one release's stages, timings and Gantt chart."""
    from steward.cli.common import resolve_config
    from steward.release.pipeline.runner import status_json, status_report

    root = root.resolve()
    config = resolve_config(config_file, root)
    if as_json:
        from steward.cli.main import echo_json

        echo_json(status_json(root, config, version))
    else:
        click.echo(status_report(root, config, version))


@click.command("verify")
@click.argument("dist_dir", type=click.Path(path_type=Path))
@click.option(
    "--provenance",
    "provenance_file",
    required=True,
    type=click.Path(path_type=Path),
    help="The multiple.intoto.jsonl file (DSSE envelopes).",
)
@click.option(
    "--public-key",
    "public_key",
    required=True,
    type=click.Path(path_type=Path),
    help="PEM Ed25519 public key the provenance was signed with.",
)
def verify_cmd(dist_dir: Path, provenance_file: Path, public_key: Path) -> None:
    """Check DIST_DIR against signed provenance: the signature, then every artifact's sha256.

    Fails on any changed, missing or extra artifact and on any change to the provenance.
    Reads only; writes nothing.
    """
    from steward.release.pipeline.verify import verify_dist

    result = verify_dist(dist_dir, provenance_file, public_key)
    for name, sha in sorted(result.subjects.items()):
        click.echo(f"ok  {name}  sha256:{sha}")
    click.echo(
        f"verified {len(result.subjects)} artifact(s) against {result.envelopes} envelope(s)"
    )


def register(group: click.Group) -> None:
    """Add `run`, `status` and `verify` to the `release` group."""
    for cmd in (run_cmd, status_cmd, verify_cmd):
        group.add_command(cmd)
