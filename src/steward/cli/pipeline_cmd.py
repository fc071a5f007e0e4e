"""`steward release run|status|verify`: the sealed release pipeline's commands.

`steward.cli.release_cmd` registers them in the `release` group, loaded on first use;
`register(group)` adds them to any other group (tests do).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from steward.cli.common import (
    config_option,
    deprecated,
    dry_run_option,
    json_option,
    path_option,
)
from steward.config.pipeline import STAGES
from steward.errors import UsageError

if TYPE_CHECKING:
    from steward.github.client import GitHubClient

_path_option = path_option("--root", dest="root", help="The repository to release.")


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
@dry_run_option("Print the plan (stages, commands, files, index, remote) and touch nothing.")
@_path_option
@config_option()
@json_option
def run_cmd(  # noqa: PLR0917 (one parameter per click option)
    version: str,
    prerelease: bool,
    skip: tuple[str, ...],
    resume: bool,
    dry_run: bool,
    root: Path,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Seal, check, build, attest, publish, tag and announce a release.

    Stages run in the configured order (the playbook's by default). Every stage after seal
    restores the sealed archive into a clean directory and checks its sha256 first. State
    lives in PATH/.steward/releases/VERSION; a failed stage says how to resume.

    Progress goes to stderr; with --json, stdout gets the release's recorded state.
    """
    from steward.cli.common import resolve_config
    from steward.history.git import ensure_repo
    from steward.pipeline.runner import RunOptions, run_release

    root = root.resolve()
    ensure_repo(root)
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
    state = run_release(root, config, opts)
    if as_json:
        from steward.cli.main import echo_json

        echo_json({**state.to_json(), "finished": state.finished, "dry_run": dry_run})


@click.command("status")
@click.argument("version_arg", metavar="[VERSION]", required=False)
@click.option(
    "--version",
    "version",
    metavar="VERSION",
    help="One release's stages, timings and Gantt chart (default: every recorded release).",
)
@json_option
@_path_option
@config_option()
def status_cmd(
    version_arg: str | None,
    version: str | None,
    as_json: bool,
    root: Path,
    config_file: Path | None,
) -> None:
    """Show recorded releases, or one release's stages, timings and Gantt chart.

    (A bare VERSION argument is the deprecated spelling of --version.)
    """
    from steward.cli.common import resolve_config
    from steward.pipeline.runner import status_json, status_report

    if version_arg is not None:
        if version is not None:
            raise UsageError("give the version once: --version VERSION")
        deprecated("`release status VERSION`", "`release status --version VERSION`")
        version = version_arg
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
@json_option
def verify_cmd(dist_dir: Path, provenance_file: Path, public_key: Path, as_json: bool) -> None:
    """Check DIST_DIR against signed provenance: the signature, then every artifact's sha256.

    Fails on any changed, missing or extra artifact and on any change to the provenance.
    Reads only; writes nothing.
    """
    from steward.pipeline.verify import verify_dist

    result = verify_dist(dist_dir, provenance_file, public_key)
    if as_json:
        from steward.cli.main import echo_json

        echo_json(
            {
                "verified": True,
                "envelopes": result.envelopes,
                "artifacts": [
                    {"name": name, "sha256": sha} for name, sha in sorted(result.subjects.items())
                ],
            }
        )
        return
    for name, sha in sorted(result.subjects.items()):
        click.echo(f"ok  {name}  sha256:{sha}")
    click.echo(
        f"verified {len(result.subjects)} artifact(s) against {result.envelopes} envelope(s)"
    )


def register(group: click.Group) -> None:
    """Add `run`, `status` and `verify` to ``group``."""
    for cmd in (run_cmd, status_cmd, verify_cmd):
        group.add_command(cmd)
