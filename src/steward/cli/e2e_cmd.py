"""`steward e2e`: helpers around the E2E pytest plugin (the plugin itself runs inside pytest)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from steward.cli.common import dry_run_option, json_option
from steward.e2e.naming import DEFAULT_PREFIX, RUN_TAG
from steward.errors import StewardError

if TYPE_CHECKING:
    from steward.e2e.deployer import CloudFormationDeployer, StackInfo
    from steward.e2e.migrate import Rewrite


@click.group()
def e2e() -> None:
    """E2E infrastructure helpers. The plugin: `pytest -p steward.e2e` (see docs/e2e.md)."""


@e2e.command("janitor")
@click.option(
    "--older-than",
    default="2h",
    show_default=True,
    metavar="DURATION",
    help="Only stacks created longer ago than this (90s, 30m, 2h, 1d): spares running sessions.",
)
@click.option("--prefix", default=DEFAULT_PREFIX, show_default=True, help="Stack name prefix.")
@dry_run_option("List what would be deleted; delete nothing.")
@json_option
def janitor(older_than: str, prefix: str, dry_run: bool, as_json: bool) -> None:
    """Delete E2E stacks leaked by earlier runs (a killed CI job, a lost network).

    Only stacks the plugin tagged with a run id are considered. The AWS account, region and
    endpoint come from the usual AWS environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL).
    Running it twice deletes nothing the second time.
    """
    from steward.e2e.janitor import leaked, parse_duration

    grace = parse_duration(older_than)
    deployer = _deployer()
    try:
        doomed = leaked(deployer.stacks(), now=datetime.now(UTC), older_than=grace, prefix=prefix)
        if as_json:
            if doomed and not dry_run:
                deployer.sweep(lambda s: s.name in {d.name for d in doomed})
            _echo_json(doomed, dry_run)
            return
        if not doomed:
            click.echo(f"no leaked E2E stacks (prefix {prefix!r}, older than {older_than})")
            return
        for stack in doomed:
            created = stack.created.isoformat(timespec="seconds") if stack.created else "?"
            run = stack.tags.get(RUN_TAG, "?")
            verb = "would delete" if dry_run else "deleting"
            click.echo(f"{verb} {stack.name} (run {run}, created {created})")
        if not dry_run:
            deployer.sweep(lambda s: s.name in {d.name for d in doomed})
            click.echo(f"deleted {len(doomed)} stack(s)")
    except StewardError:
        raise
    except Exception as exc:  # botocore: no credentials, access denied, endpoint down
        raise StewardError(
            f"AWS: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from exc


def _echo_json(doomed: list[StackInfo], dry_run: bool) -> None:
    from steward.cli.main import echo_json

    echo_json(
        {
            "dry_run": dry_run,
            "deleted": [] if dry_run else [s.name for s in doomed],
            "stacks": [
                {
                    "name": s.name,
                    "run": s.tags.get(RUN_TAG),
                    "created": s.created.isoformat(timespec="seconds") if s.created else None,
                }
                for s in doomed
            ],
        }
    )


def _deployer() -> CloudFormationDeployer:
    try:
        from steward.e2e.deployer import CloudFormationDeployer

        return CloudFormationDeployer()
    except ImportError as exc:
        raise StewardError("boto3 is missing: pip install 'repo-steward[e2e]'") from exc
    except Exception as exc:
        raise StewardError(f"AWS: {exc}") from exc


# Folders a source walk never enters: VCS data, environments, caches, build output.
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "cdk.out", "site-packages"})


@e2e.command("migrate")
@click.argument("path", type=click.Path(path_type=Path), metavar="PATH")
@click.option("--write", is_flag=True, help="Rewrite the files (default: show the diff only).")
@json_option
def migrate(path: Path, write: bool, as_json: bool) -> None:
    """Point a Powertools-style E2E suite at steward: rewrite its imports only.

    In every .py file under PATH (a file or a folder), `from tests.e2e.utils[.X] import ...`
    and `import tests.e2e.utils[.X] [as Y]` become `steward.e2e.compat[.X]`; nothing else in
    the file changes (line endings, encoding and formatting are kept). Without --write it
    prints a unified diff per file and changes nothing. Running it again finds nothing to
    do. A file that is not valid Python is reported and skipped. Hidden folders,
    __pycache__, node_modules and cdk.out are not entered. The module table is in
    docs/e2e.md ("Coming from Powertools' tests/e2e").
    """
    from steward.e2e.migrate import MigrateError, rewrite_bytes
    from steward.fsutil import atomic_write_text
    from steward.workspace import Limit, Workspace, read_bytes

    ws = Workspace(Path.cwd())
    kind: Literal["file", "dir"] = "dir" if path.is_dir() else "file"
    path = ws.cli_path(path, "PATH", kind=kind)
    root = path if kind == "dir" else path.parent
    changed: list[tuple[Path, Rewrite]] = []
    skipped: list[tuple[Path, str]] = []
    unchanged = 0
    noted: list[tuple[Path, Rewrite]] = []
    for file in _python_files(path):
        try:
            result = rewrite_bytes(read_bytes(file, Limit.PROJECT, "a Python file"))
        except (MigrateError, StewardError) as exc:
            skipped.append((file, str(exc)))
            continue
        if result.changed:
            changed.append((file, result))
        else:
            unchanged += 1
        if result.unmapped or result.bare:
            noted.append((file, result))
    if write:
        for file, result in changed:
            text = result.data.decode(result.encoding)
            atomic_write_text(file, text, root=root, encoding=result.encoding, newline="")
    if as_json:
        _migrate_json(changed, skipped, unchanged, write)
        return
    for file, result in changed:
        if write:
            click.echo(f"rewrote {file} ({len(result.edits)} import(s))")
        else:
            click.echo(result.diff(file.as_posix()), nl=False)
    for file, result in noted:
        _notes(file, result)
    for file, reason in skipped:
        click.echo(f"skipped {file}: {reason}", err=True)
    imports = sum(len(r.edits) for _, r in changed)
    if not changed:
        click.echo(f"nothing to rewrite: {unchanged} file(s) checked, {len(skipped)} skipped")
        return
    verb = "rewrote" if write else "would rewrite"
    click.echo(
        f"{verb} {imports} import(s) in {len(changed)} file(s); "
        f"{unchanged} file(s) with nothing to do; {len(skipped)} skipped"
    )
    if not write:
        click.echo("run again with --write to apply")


def _python_files(path: Path) -> list[Path]:
    """``path`` itself, or the regular .py files below it (symlinks are not followed)."""
    if not path.is_dir():
        return [path]
    found: list[Path] = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(files):
            file = Path(folder) / name
            if name.endswith(".py") and not file.is_symlink() and file.is_file():
                found.append(file)
    return found


def _notes(file: Path, result: Rewrite) -> None:
    for edit in result.unmapped:
        click.echo(
            f"{file}:{edit.line}: {edit.old} has no steward.e2e.compat module; left as is", err=True
        )
    for edit in result.bare:
        click.echo(
            f"{file}:{edit.line}: `import {edit.old}` binds `{edit.old.split('.')[0]}`: "
            f"code that spells out {edit.old}.<name> must use {edit.new}.<name>",
            err=True,
        )


def _migrate_json(
    changed: list[tuple[Path, Rewrite]],
    skipped: list[tuple[Path, str]],
    unchanged: int,
    write: bool,
) -> None:
    from steward.cli.main import echo_json

    files: list[dict[str, Any]] = [
        {
            "path": str(file),
            "imports": [{"line": e.line, "old": e.old, "new": e.new} for e in result.edits],
            "unmapped": [{"line": e.line, "module": e.old} for e in result.unmapped],
            "diff": result.diff(file.as_posix()),
        }
        for file, result in changed
    ]
    echo_json(
        {
            "write": write,
            "files": files,
            "unchanged": unchanged,
            "skipped": [{"path": str(f), "reason": reason} for f, reason in skipped],
        }
    )
