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
    from steward.pipeline.verify import Verified

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
@click.option(
    "--stop-before",
    type=click.Choice(STAGES),
    default=None,
    help="Stop before this stage, its state kept: a later job (e.g. behind a GitHub "
    "environment's approval) continues with --resume.",
)
@dry_run_option("Print the plan (stages, commands, files, index, remote) and touch nothing.")
@_path_option
@config_option()
@json_option
def run_cmd(  # noqa: PLR0917 (one parameter per click option)
    version: str,
    prerelease: bool,
    skip: tuple[str, ...],
    resume: bool,
    stop_before: str | None,
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
    import os
    import tempfile

    from steward.cli.common import resolve_config
    from steward.cli.release_lambda import local_lambda
    from steward.history.git import ensure_repo
    from steward.pipeline.aws import Sessions
    from steward.pipeline.runner import RunOptions, run_release

    root = root.resolve()
    ensure_repo(root)
    config = resolve_config(config_file, root)
    factory = _github_factory()
    with tempfile.TemporaryDirectory(prefix="steward-lambda-") as cache:
        # on an emulator, the layer canary's handler runs here (steward's local runtime)
        aws = Sessions(
            dict(os.environ), f"steward-release-{version}", lambda_runner=local_lambda(Path(cache))
        )
        opts = RunOptions(
            version=version,
            prerelease=prerelease,
            skip=skip,
            resume=resume,
            dry_run=dry_run,
            github=factory,
            aws=aws,
            stop_before=stop_before,
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
@click.argument("dist_dir", type=click.Path(path_type=Path), required=False)
@click.option(
    "--dist",
    "dist_opt",
    metavar="DIR",
    type=click.Path(path_type=Path),
    help="The artifacts to check (the same as DIST_DIR).",
)
@click.option(
    "--provenance",
    "provenance_file",
    type=click.Path(path_type=Path),
    help="The multiple.intoto.jsonl file (DSSE envelopes); not with --release.",
)
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(path_type=Path),
    help="PEM Ed25519 public key the provenance was signed with; with --release it pins "
    "the key (the release's provenance.pub.pem must be this one).",
)
@click.option(
    "--release",
    "release_ref",
    metavar="URL_OR_TAG",
    help="Take the provenance, key and SHA256SUMS from a GitHub release's assets: its URL "
    "(https://github.com/OWNER/NAME/releases/tag/TAG) or its tag with --repo.",
)
@click.option(
    "--repo",
    "--repository",
    "repo",
    metavar="OWNER/NAME",
    help="The repository of a --release tag (default: GITHUB_REPOSITORY).",
)
@json_option
def verify_cmd(  # noqa: PLR0917 (one parameter per click option)
    dist_dir: Path | None,
    dist_opt: Path | None,
    provenance_file: Path | None,
    public_key: Path | None,
    release_ref: str | None,
    repo: str | None,
    as_json: bool,
) -> None:
    """Check DIST_DIR against signed provenance: the signature, then every artifact's sha256.

    From files: --provenance and --public-key. From a GitHub release: --release URL_OR_TAG
    downloads the release's multiple.intoto.jsonl, provenance.pub.pem and SHA256SUMS (a
    token is optional for a public repository: GITHUB_TOKEN when set; GITHUB_API_URL for
    GitHub Enterprise Server), checks each against GitHub's digest of it, and SHA256SUMS
    against the signed subjects. The key on the release proves only that the release agrees
    with itself: add --public-key to pin the key you trust.

    Fails on any changed, missing or extra artifact, any change to the provenance, a
    missing or tampered release asset (named), and a release that does not exist.
    Reads only; writes nothing.
    """
    if dist_dir is not None and dist_opt is not None:
        raise UsageError("give the artifacts once: DIST_DIR or --dist DIR")
    dist = dist_dir or dist_opt
    if dist is None:
        raise UsageError("which artifacts? give DIST_DIR (or --dist DIR)")
    if release_ref is not None:
        if provenance_file is not None:
            raise UsageError("--provenance comes from the release with --release: give one")
        result: Verified = _verify_from_release(release_ref, repo, dist, public_key)
    else:
        if provenance_file is None or public_key is None:
            raise UsageError(
                "give --provenance FILE and --public-key FILE, or --release URL_OR_TAG"
            )
        if repo is not None:
            raise UsageError("--repo names the repository of a --release tag")
        from steward.pipeline.verify import verify_dist

        result = verify_dist(dist, provenance_file, public_key)
    _report_verified(result, as_json)


def _verify_from_release(
    ref_text: str, repo: str | None, dist: Path, public_key: Path | None
) -> Verified:
    """`verify_release` through a client made from the environment, the token optional."""
    from steward.github.client import DEFAULT_API_URL, GitHubClient
    from steward.github.repo_api import RepoApi
    from steward.pipeline.verify import release_ref, verify_release

    ref = release_ref(ref_text, repo or os.environ.get("GITHUB_REPOSITORY"))
    api_url = os.environ.get("GITHUB_API_URL")
    if ref.host not in {None, "github.com"} and not api_url:
        raise UsageError(
            f"--release is on {ref.host}: set GITHUB_API_URL to its API (https://{ref.host}/api/v3)"
        )
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None
    with GitHubClient(token, api_url or DEFAULT_API_URL) as client:
        return verify_release(RepoApi(client, ref.repository), ref.tag, dist, public_key)


def _report_verified(result: Verified, as_json: bool) -> None:
    from steward.pipeline.verify import ReleaseVerified

    release = result if isinstance(result, ReleaseVerified) else None
    if as_json:
        from steward.cli.main import echo_json

        out: dict[str, object] = {
            "verified": True,
            "envelopes": result.envelopes,
            "artifacts": [
                {"name": name, "sha256": sha} for name, sha in sorted(result.subjects.items())
            ],
        }
        if release is not None:
            out["release"] = {
                "repository": release.repository,
                "tag": release.tag,
                "url": release.url,
                "key_from": release.key_from,
            }
        echo_json(out)
        return
    for name, sha in sorted(result.subjects.items()):
        click.echo(f"ok  {name}  sha256:{sha}")
    click.echo(
        f"verified {len(result.subjects)} artifact(s) against {result.envelopes} envelope(s)"
    )
    if release is not None:
        click.echo(f"from release {release.tag} of {release.repository}, SHA256SUMS agreeing")
        if release.key_from == "release":
            click.echo(
                "note: checked with the key on the release itself; pass --public-key to pin "
                "a key you trust",
                err=True,
            )


def register(group: click.Group) -> None:
    """Add `run`, `status` and `verify` to ``group``."""
    for cmd in (run_cmd, status_cmd, verify_cmd):
        group.add_command(cmd)
