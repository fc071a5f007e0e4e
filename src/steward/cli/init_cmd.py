"""`steward init`: make a repository steward-run in one command."""

from __future__ import annotations

from pathlib import Path

import click

from steward.cli.main import echo_json
from steward.config.loader import find_config, load_config
from steward.init import InitOptions, aws_region, detect_branch, plan_files, write_files

_VERB = {
    "create": ("would create", "created"),
    "overwrite": ("would overwrite", "overwrote"),
    "unchanged": ("unchanged", "unchanged"),
    "keep": ("would keep", "kept"),
}
NEXT_STEPS = """\
next:
  git add .github && git commit -m "chore(ci): steward init"
  steward labels sync --repo OWNER/NAME    # the labels the automation and the forms use
  secrets for the release workflows: STEWARD_SIGNING_KEY (openssl genpkey -algorithm
  ed25519){token}; for E2E tests: AWS_E2E_ROLE_ARN
  PyPI: {pypi}
  environments `release` and `pre-release`: add required reviewers to approve releases{aws}"""


@click.command()
@click.option(
    "--path",
    "workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=".",
    show_default=True,
    help="The repository to set up.",
)
@click.option(
    "--branch",
    metavar="NAME",
    help="The trunk (PRs target it, E2E runs on pushes to it). Default: the branch "
    "checked out, else main.",
)
@click.option(
    "--python",
    "python_version",
    default="3.12",
    show_default=True,
    metavar="X.Y",
    help="Python version the workflows run steward with.",
)
@click.option(
    "--pypi-token",
    is_flag=True,
    help="Publish to PyPI with the PYPI_API_TOKEN secret instead of Trusted Publishing.",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist with other content.")
@click.option("--dry-run", is_flag=True, help="List the files; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="List what was written as JSON.")
def init(  # noqa: PLR0917 (click passes one argument per option)
    workdir: Path,
    branch: str | None,
    python_version: str,
    pypi_token: bool,
    force: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Turn a repository into a steward-run one, the way the playbook's is.

    Writes .github/steward.yml (commented defaults), the workflows (PR and issue
    automation, the daily sweep, the release, the weekday alpha pre-release, the docs
    hotfix, E2E tests on push), the PR template with the `Issue number:` field and the
    acknowledgement the policies read, and issue forms (bug report, feature request, RFC,
    static typing, documentation) labelled as the playbook does.

    Every action is pinned by commit SHA. PyPI publishing uses Trusted Publishing (OIDC,
    no token) unless --pypi-token. When the repository's .github/steward.yml configures a
    Lambda layer or SAR account, the release workflows get AWS credentials through OIDC
    (the AWS_RELEASE_ROLE_ARN variable).

    A file that exists with other content is kept unless --force; one with the same
    content is left alone, so running it again changes nothing.

    \b
    Examples:
      steward init --dry-run
      steward init --branch develop
    """
    options = InitOptions(
        branch=branch or detect_branch(workdir) or "main",
        python_version=python_version,
        pypi_token=pypi_token,
    )
    # The repository's own config, when it has one, decides the AWS credentials steps.
    config = load_config(find_config(workdir)) if workdir.is_dir() else None
    files = plan_files(options, config=config)
    written = write_files(workdir, files, force=force, dry_run=dry_run)
    if as_json:
        echo_json(
            {
                "dry_run": dry_run,
                "branch": options.branch,
                "files": [w.to_json() for w in written],
            }
        )
        return
    width = max(len(w.path) for w in written)
    for w in written:
        verb = _VERB[w.action][0 if dry_run else 1]
        click.echo(f"{verb:<15} {w.path:<{width}}  {w.description}")
    kept = [w for w in written if w.action == "keep"]
    if kept:
        click.echo(
            f"{len(kept)} file(s) exist with other content and were kept; --force overwrites them",
            err=True,
        )
    if dry_run:
        click.echo("dry run: nothing was written")
    elif any(w.action in {"create", "overwrite"} for w in written):
        region = aws_region(config) if config is not None else None
        click.echo(
            NEXT_STEPS.format(
                token=", PYPI_API_TOKEN" if pypi_token else "",
                pypi="the PYPI_API_TOKEN secret"
                if pypi_token
                else "register release.yml and pre-release.yml as trusted publishers",
                aws="\n  AWS (layer, SAR): the AWS_RELEASE_ROLE_ARN variable, an OIDC role"
                if region
                else "",
            )
        )
