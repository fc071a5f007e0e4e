"""Versioned docs with MkDocs and mike: what the release's docs stage and the documentation
hotfix (`steward docs rebuild`) both run.

mike is the project's docs toolchain, not a steward dependency: it is run as a command
(`mike deploy --push --update-aliases VERSION latest`), from PATH or from the environment
steward runs in. It builds the tree it is started in and commits to the repository named by
``GIT_DIR``, so a release builds its docs from the sealed source while the commit goes to the
repository's documentation branch.

Idempotent: the documentation branch is fetched first (mike builds on top of it), the build is
reproducible (``SOURCE_DATE_EPOCH`` fixes MkDocs' dates), and mike drops a commit that changes
nothing, so deploying the same version with the same content pushes nothing new.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from steward import limits
from steward.errors import GitError, ReleaseError
from steward.history.git import git_dir, has_remote, ref_sha, remote_ref, show_file, tree_has_path
from steward.history.plumbing import delete_ref, fetch_ref

VERSIONS_FILE = "versions.json"


class DocsError(ReleaseError):
    """Building or publishing the docs failed."""


@dataclass(frozen=True, slots=True)
class DocsTarget:
    """Where the docs go: the documentation branch of a remote of a repository."""

    repo: Path
    remote: str
    branch: str

    @property
    def tracking_ref(self) -> str:
        """The remote-tracking ref mike compares its local branch with."""
        return f"refs/remotes/{self.remote}/{self.branch}"


@dataclass(frozen=True, slots=True)
class DocsBuild:
    """One docs version to build and deploy."""

    source: Path  # the tree holding the MkDocs config and the docs
    config_file: str  # relative to ``source``
    version: str  # the docs version name
    alias: str | None  # moved to this version (``--update-aliases``); None: left alone
    set_default: bool  # make ``alias`` the site's default (mike set-default)
    epoch: int  # SOURCE_DATE_EPOCH for MkDocs
    message: str  # commit message on the documentation branch
    mike: tuple[str, ...] = ("mike",)
    committer: tuple[str, str] = ("steward-release", "steward-release@users.noreply.github.com")
    timeout: float = 900.0


@dataclass(frozen=True, slots=True)
class DocsVersion:
    """One entry of mike's ``versions.json``."""

    version: str
    title: str
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class DeployResult:
    before: str | None  # the documentation branch on the remote before
    after: str | None  # ... and after
    commands: list[list[str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after


def docs_version_name(template: str, version: str) -> str:
    """The docs version for a release: ``{version}``, ``{major}``, ``{minor}``, ``{micro}``."""
    try:
        v = Version(version)
    except InvalidVersion:
        raise DocsError(f"{version!r} is not a PEP 440 version") from None
    return template.format(version=str(v), major=v.major, minor=v.minor, micro=v.micro)


def mike_commands(target: DocsTarget, build: DocsBuild) -> list[list[str]]:
    """The mike commands a deploy runs (mike's own name first, as configured)."""
    common = ["--config-file", build.config_file, "--remote", target.remote]
    common += ["--branch", target.branch]
    deploy = [*build.mike, "deploy", *common, "--push", "--message", build.message]
    if build.alias:
        deploy += ["--update-aliases", build.version, build.alias]
    else:
        deploy.append(build.version)
    out = [deploy]
    if build.alias and build.set_default:
        out.append([*build.mike, "set-default", *common, "--push", build.alias])
    return out


def describe(target: DocsTarget, build: DocsBuild) -> list[str]:
    """Plan lines: what a deploy would do (nothing is touched)."""
    lines = [
        f"fetch {target.branch} from {target.remote}",
        f"build {build.config_file} in {build.source} with SOURCE_DATE_EPOCH={build.epoch}",
    ]
    lines += [f"run: {shlex.join(cmd)}" for cmd in mike_commands(target, build)]
    return lines


def resolve_command(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """``argv`` with its program found on PATH, else beside the running Python."""
    program = argv[0]
    if os.sep in program:
        return list(argv)
    found = shutil.which(program, path=env.get("PATH", os.defpath))
    if found is None:
        beside = Path(sys.executable).parent / program
        if beside.is_file() and os.access(beside, os.X_OK):
            found = str(beside)
    if found is None:
        raise DocsError(
            f"{program} is not installed: install the docs toolchain (pip install mkdocs mike) "
            "or set release.docs.mike_command"
        )
    return [found, *argv[1:]]


def _git_dir(repo: Path) -> str:
    """The git directory mike commits to (its ``GIT_DIR``)."""
    try:
        return str(git_dir(repo))
    except GitError as exc:
        raise DocsError(f"{repo} is not a git repository: {exc}") from None


def fetch_branch(target: DocsTarget) -> str | None:
    """The documentation branch on the remote (None when it has none yet), fetched into the
    remote-tracking ref mike builds on."""
    if not has_remote(target.repo, target.remote):
        raise DocsError(f"{target.repo} has no git remote named {target.remote!r}")
    sha = remote_ref(target.repo, target.remote, f"refs/heads/{target.branch}")
    if sha is not None:
        fetch_ref(target.repo, target.remote, f"+refs/heads/{target.branch}:{target.tracking_ref}")
    elif ref_sha(target.repo, target.tracking_ref) is not None:
        # The remote deleted the branch: mike must not build on what it once held.
        delete_ref(target.repo, target.tracking_ref)
    return sha


def read_versions(repo: Path, rev: str) -> list[DocsVersion]:
    """mike's ``versions.json`` at ``rev`` of the documentation branch ([] when absent)."""
    try:
        raw = show_file(repo, rev, VERSIONS_FILE)
    except GitError:
        return []
    data = limits.loads_json(raw, f"{VERSIONS_FILE} on {rev}", DocsError)
    if not isinstance(data, list):
        raise DocsError(f"{VERSIONS_FILE} on {rev} is not a list")
    out = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("version"), str):
            aliases = tuple(a for a in item.get("aliases") or () if isinstance(a, str))
            out.append(DocsVersion(item["version"], str(item.get("title") or ""), aliases))
    return out


def has_version(repo: Path, rev: str, version: str) -> bool:
    """Whether the documentation branch at ``rev`` lists ``version`` and holds its pages."""
    if not any(v.version == version for v in read_versions(repo, rev)):
        return False
    try:
        return tree_has_path(repo, rev, f"{version}/index.html")
    except GitError:
        return False


def alias_target(versions: Sequence[DocsVersion], alias: str) -> str | None:
    for v in versions:
        if alias in v.aliases:
            return v.version
    return None


def takes_alias(versions: Sequence[DocsVersion], version: str, alias: str) -> bool:
    """Whether a rebuild of ``version`` should carry ``alias``: it already does, or no
    deployed version is newer (a hotfix of an old version must not move `latest` back)."""
    current = alias_target(versions, alias)
    if current is not None:
        return current == version or _newer_or_equal(version, current)
    return all(_newer_or_equal(version, v.version) for v in versions)


def _newer_or_equal(a: str, b: str) -> bool:
    try:
        return Version(a) >= Version(b)
    except InvalidVersion:
        return a == b


def deploy(target: DocsTarget, build: DocsBuild, env: Mapping[str, str]) -> DeployResult:
    """Build ``build.source`` and push it as ``build.version`` to the documentation branch."""
    if not (build.source / build.config_file).is_file():
        raise DocsError(f"no MkDocs config {build.config_file} in {build.source}")
    before = fetch_branch(target)
    result = DeployResult(before=before, after=before)
    name, email = build.committer
    run_env = {
        **env,
        "GIT_DIR": _git_dir(target.repo),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "SOURCE_DATE_EPOCH": str(build.epoch),
    }
    for key in ("GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMITTER_DATE"):
        run_env.pop(key, None)
    program = resolve_command(build.mike, run_env)
    # mike runs `mkdocs` from PATH: the environment mike comes from goes first.
    bindir = str(Path(program[0]).parent)
    run_env["PATH"] = os.pathsep.join([bindir, run_env.get("PATH", os.defpath)])
    for argv in mike_commands(target, build):
        cmd = [*program, *argv[len(build.mike) :]]
        result.commands.append(cmd)
        _run(cmd, build.source, run_env, build.timeout)
    result.after = fetch_branch(target)
    if result.after is None or not has_version(target.repo, result.after, build.version):
        raise DocsError(
            f"{target.remote} {target.branch} does not hold docs version {build.version} "
            "after mike deploy"
        )
    return result


def _run(cmd: list[str], cwd: Path, env: Mapping[str, str], timeout: float) -> None:
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise DocsError(f"cannot run {cmd[0]}: {exc}") from None
    except subprocess.TimeoutExpired:
        raise DocsError(f"{shlex.join(cmd[:2])} ran over {timeout:.0f}s") from None
    if proc.returncode != 0:
        tail = proc.stdout.decode(errors="replace").strip().splitlines()[-6:]
        raise DocsError(
            f"{Path(cmd[0]).name} {cmd[1]} exited {proc.returncode}: " + " | ".join(tail)
        )
