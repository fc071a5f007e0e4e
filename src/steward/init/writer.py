"""`steward init`: the files that make a repository steward-run, the way the playbook's is.

``plan_files(options)`` is pure: it renders the templates shipped in this package (Jinja2
with ``[[ ]]`` for values, so GitHub's ``${{ }}`` expressions pass through untouched) into
``File`` records. ``write_files(root, files, force=..., dry_run=...)`` writes them
atomically; a file that exists with other content is kept unless ``force``, and one that
already has the same content is not written again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2 import Environment, StrictUndefined

from steward import __version__
from steward.config.model import StewardConfig
from steward.errors import UsageError
from steward.fsutil import atomic_write_text
from steward.policies import acknowledgement, merge_gate, semantic_title
from steward.workspace import Limit, Workspace, read_text

Action = Literal["create", "overwrite", "unchanged", "keep"]
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
_PYTHON = re.compile(r"^3\.[0-9]{1,2}$")

# Every action the written workflows use, pinned by full commit SHA (a tag can be moved to
# other code, a commit cannot) with the version it is, written as `uses: NAME@SHA # VERSION`.
# Taken from the seed's own workflows (aws-powertools/powertools-lambda-python at fa1c29f,
# .github/workflows/), so steward's workflows run the code the playbook's release runs.
# To update one: the new release's commit (`git ls-remote https://github.com/NAME vX.Y.Z`).
ACTIONS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("f677139bbe7f9c59b41e40162b753c062f5d49a3", "v5.2.0"),
    "actions/upload-artifact": ("b4b15b8c7c6ac21ea08fcf65892d2ee8f75cf882", "v4.4.3"),
    "actions/download-artifact": ("fa0a91b85d4f404e444e00e005971372dc801d16", "v4.1.8"),
    "aws-actions/configure-aws-credentials": (
        "e3dd6a429d7300a6a4c196c26e071d42e0343502",
        "v4.0.2",
    ),
    # Not used by the seed. From wardellbagby/lyricistant's
    # .github/workflow-templates/helpers/versions.ts ("pin@v4.2.0"); v4.2.0 is the first
    # release on the cache service GitHub has run since February 2025.
    "actions/cache": ("1bd1e32a3bdc45362d1e726936510720a7c30a57", "v4.2.0"),
}

# GitHub environments the publishing jobs run in, as the seed names them. Required reviewers
# on one (Settings > Environments) are the approval gate before anything is published; the
# AWS role variable and PyPI's trusted publisher can be scoped to it. A workflow that names
# an environment the repository lacks creates it, unprotected.
ENVIRONMENTS: dict[str, str] = {
    "release": "release",
    "pre-release": "pre-release",
    "beta": "layer-beta",
    "prod": "layer-prod",
}
# The release's approval gates, as the seed's layer workflows run them: the beta stages in
# the `layer-beta` environment, the prod ones in `layer-prod`, each a job of its own that
# continues the release (`steward release run --resume`) from the state the job before it
# kept (`--stop-before`, uploaded as an artifact).
GATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("beta", ("layer-beta", "sar-beta")),
    ("prod", ("layer-prod", "sar-prod")),
)

# What zizmor (default persona, offline) still reports on the written workflows, each ignored
# inline in its template (`# zizmor: ignore[AUDIT]`) for this reason. tests/init checks that
# nothing else is reported, and that each of these is.
ZIZMOR_IGNORES: tuple[tuple[str, str, str], ...] = (
    (
        "steward-automation.yml",
        "dangerous-triggers",
        "pull_request_target is what lets steward label, comment on and set statuses of "
        "pull requests from forks; the job never checks out or runs the pull request's "
        "code: it checks out .github/steward.yml alone, from the default branch, without "
        "credentials, and reads the pull request as data",
    ),
)

# (path in the repository, template, what it is)
LAYOUT: tuple[tuple[str, str, str], ...] = (
    (".github/steward.yml", "steward.yml.j2", "steward's config: commented defaults"),
    (
        ".github/workflows/steward-automation.yml",
        "workflows/steward-automation.yml.j2",
        "PR and issue automation (steward handle), fork-safe; merge queue statuses",
    ),
    (
        ".github/workflows/steward-sweep.yml",
        "workflows/steward-sweep.yml.j2",
        "daily stale and revisit sweep",
    ),
    (
        ".github/workflows/release.yml",
        "workflows/release.yml.j2",
        "release: workflow_dispatch with the version",
    ),
    (
        ".github/workflows/pre-release.yml",
        "workflows/pre-release.yml.j2",
        "alpha pre-release on weekdays at 08:00 UTC",
    ),
    (
        ".github/workflows/rebuild-latest-docs.yml",
        "workflows/rebuild-latest-docs.yml.j2",
        "documentation hotfix (steward docs rebuild)",
    ),
    (
        ".github/workflows/run-e2e-tests.yml",
        "workflows/run-e2e-tests.yml.j2",
        "E2E tests on push and by hand",
    ),
    (
        ".github/PULL_REQUEST_TEMPLATE.md",
        "PULL_REQUEST_TEMPLATE.md.j2",
        "PR template: Issue number field and acknowledgement",
    ),
    (
        ".github/ISSUE_TEMPLATE/bug_report.yml",
        "ISSUE_TEMPLATE/bug_report.yml.j2",
        "issue form: bug report (bug, triage)",
    ),
    (
        ".github/ISSUE_TEMPLATE/feature_request.yml",
        "ISSUE_TEMPLATE/feature_request.yml.j2",
        "issue form: feature request (feature-request, triage)",
    ),
    (
        ".github/ISSUE_TEMPLATE/rfc.yml",
        "ISSUE_TEMPLATE/rfc.yml.j2",
        "issue form: RFC (RFC, triage)",
    ),
    (
        ".github/ISSUE_TEMPLATE/static_typing.yml",
        "ISSUE_TEMPLATE/static_typing.yml.j2",
        "issue form: static typing (typing, triage)",
    ),
    (
        ".github/ISSUE_TEMPLATE/documentation_improvements.yml",
        "ISSUE_TEMPLATE/documentation_improvements.yml.j2",
        "issue form: documentation (documentation, triage)",
    ),
    (
        ".github/ISSUE_TEMPLATE/config.yml",
        "ISSUE_TEMPLATE/config.yml.j2",
        "issue chooser: forms only",
    ),
)


@dataclass(frozen=True, slots=True)
class InitOptions:
    """What the generated files depend on."""

    branch: str = "main"  # the trunk: E2E on push to it, PRs target it
    python_version: str = "3.12"  # the workflows' Python
    steward_version: str = __version__  # pinned in every workflow
    # Publish to PyPI with the PYPI_API_TOKEN secret instead of Trusted Publishing (OIDC):
    # for an index without trusted publishers, or a project not registered as one yet.
    pypi_token: bool = False

    def __post_init__(self) -> None:
        if not _BRANCH.fullmatch(self.branch) or ".." in self.branch:
            raise UsageError(f"{self.branch!r} is not a branch name steward init can use")
        if not _PYTHON.fullmatch(self.python_version):
            raise UsageError(f"--python must look like 3.12, got {self.python_version!r}")
        if not re.fullmatch(r"[0-9A-Za-z.+!-]{1,40}", self.steward_version):
            raise UsageError(f"{self.steward_version!r} is not a version")


@dataclass(frozen=True, slots=True)
class File:
    path: str  # relative to the repository, POSIX separators
    content: str
    description: str


@dataclass(frozen=True, slots=True)
class Written:
    path: str
    action: Action
    description: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "action": self.action, "description": self.description}


def _defaults() -> dict[str, Any]:
    data = StewardConfig().effective()
    return data


def _commented(
    defaults: dict[str, Any],
    path: str,
    *keys: str,
    open: bool = False,
    under_open: bool = False,
) -> str:
    """Default values of ``keys`` of section ``path`` as commented YAML.

    ``open``: the section's key is written above, uncommented, so only its keys are (each
    "# " after the indentation); otherwise the section key is commented too, with "# " in
    the first column, unless ``under_open``: its parent is open. Removing the "# " gives
    valid YAML either way. Multi-line messages are left out (they are long).
    """
    parts = [p for p in path.split(".") if p]
    node: Any = defaults
    for part in parts:
        node = node[part]
    chosen = {k: node[k] for k in keys} if keys else dict(node)
    chosen = {k: v for k, v in chosen.items() if not (isinstance(v, str) and "\n" in v)}
    if open:
        data: dict[str, Any] = chosen
        indent = 2 * len(parts)
    elif parts:
        data, indent = {parts[-1]: chosen}, 2 * (len(parts) - 1)
    else:
        data, indent = chosen, 0
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=88)
    pad = " " * indent
    if open or under_open:
        return "\n".join(f"{pad}# {line}" for line in text.splitlines())
    return "\n".join(f"# {pad}{line}" for line in text.splitlines())


class _Dumper(yaml.SafeDumper):
    """Mappings in block style (one key a line, easy to uncomment), lists of scalars in
    flow style (``[a, b]``)."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=False)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(not isinstance(item, dict | list) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def _environment() -> Environment:
    return Environment(
        block_start_string="{%",
        block_end_string="%}",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        keep_trailing_newline=True,
        trim_blocks=True,  # a line holding only {% if %} or {% endif %} leaves nothing
        lstrip_blocks=True,
        undefined=StrictUndefined,
        autoescape=False,  # noqa: S701 (YAML and Markdown from our own templates, no HTML)
    )


def _template(name: str) -> str:
    return (resources.files("steward.init") / "templates" / name).read_text(encoding="utf-8")


def aws_region(config: StewardConfig) -> str | None:
    """The first region a layer or SAR account publishes to: the AWS credentials' default
    region in the release workflows. None when no account is configured, so no job assumes
    an AWS role it does not need."""
    release = config.release
    for section in (release.layer, release.sar):
        if section is None:
            continue
        for account in (section.accounts.beta, section.accounts.prod):
            if account is not None:
                return account.regions[0]
    return None


def release_gates(config: StewardConfig) -> list[dict[str, str]]:
    """The gated jobs after the release job, in stage order: each with its environment and
    the first stage it runs (the job before it stops there). None without an AWS account."""
    if aws_region(config) is None:
        return []
    stages: list[str] = list(config.release.stages)
    gates = []
    for job, names in GATES:
        present = [s for s in stages if s in names]
        if present:
            first = min(present, key=stages.index)
            gates.append({"job": job, "environment": ENVIRONMENTS[job], "first": first})
    return sorted(gates, key=lambda g: stages.index(g["first"]))


def _uses(name: str) -> str:
    """``NAME@SHA # VERSION`` from `ACTIONS`: a template naming an action not in the table
    fails to render, so nothing unpinned is written."""
    if name not in ACTIONS:
        raise KeyError(f"{name} is not in steward.init.writer.ACTIONS: pin it there first")
    sha, version = ACTIONS[name]
    return f"{name}@{sha} # {version}"


def plan_files(options: InitOptions, config: StewardConfig | None = None) -> list[File]:
    """Every file `steward init` writes, rendered (pure: nothing is read but the templates).

    ``config`` is the repository's own `.github/steward.yml` when it has one (else the
    defaults): the release workflows get AWS credentials only when it configures a layer or
    SAR account, and the statuses and acknowledgement are the ones its policies check.
    """
    defaults = _defaults()
    config = config if config is not None else StewardConfig()
    region = aws_region(config)
    contexts = [
        semantic_title.POLICY.of(config).status_context,
        merge_gate.POLICY.of(config).status_context,
    ]
    values: dict[str, Any] = {
        "branch": options.branch,
        "base_branch": options.branch,
        "python_version": options.python_version,
        "steward_version": options.steward_version,
        "steward": f"repo-steward=={options.steward_version}",
        "steward_release": f"repo-steward[release]=={options.steward_version}",
        "steward_e2e": f"repo-steward[e2e]=={options.steward_version}",
        "status_contexts": contexts,
        "acknowledgement": acknowledgement.POLICY.of(config).required_text,
        "has_docs": True,
        "aws": region is not None,
        "aws_region": region or "",
        "trusted_publishing": not options.pypi_token,
        "environments": ENVIRONMENTS,
        "gates": release_gates(config),
        "id_token_why": "OIDC: "
        + " and ".join(
            why
            for why, needed in (
                ("PyPI Trusted Publishing", not options.pypi_token),
                ("AWS credentials (this job only)", region is not None),
            )
            if needed
        ),
    }
    env = _environment()
    env.globals["uses"] = _uses

    def commented(path: str, *keys: str, open: bool = False, under_open: bool = False) -> str:
        return _commented(defaults, path, *keys, open=open, under_open=under_open)

    env.globals["commented"] = commented
    out = []
    for rel, template, description in LAYOUT:
        text = env.from_string(_template(template)).render(**values)
        out.append(File(rel, _tidy(text), description))
    return out


def _tidy(text: str) -> str:
    """One trailing newline, no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line == "" and tidy and tidy[-1] == "":
            continue
        tidy.append(line)
    return "\n".join(tidy).strip("\n") + "\n"


def detect_branch(root: Path) -> str | None:
    """The branch HEAD names (even before the first commit), if ``root`` is a git repository."""
    from steward.errors import GitError
    from steward.history.git import head_branch

    try:
        name = head_branch(root)
    except GitError:
        return None
    return name if _BRANCH.fullmatch(name) else None


def write_files(
    root: Path, files: Sequence[File], *, force: bool = False, dry_run: bool = False
) -> list[Written]:
    """Write ``files`` under ``root``: new files are created, files with the same content
    left alone, files with other content kept unless ``force``. ``dry_run`` writes nothing
    and reports what would happen."""
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory")
    # Every target checked before anything is written (`steward.workspace`): inside the
    # checkout after symlinks, out of .git/, a regular file where one exists (a FIFO would
    # block the read that compares it, a device would be replaced).
    ws = Workspace(root)
    targets = [ws.own_path(f.path) for f in files]
    out: list[Written] = []
    for f, target in zip(files, targets, strict=True):
        existing = _read(target)
        if existing is None:
            action: Action = "create"
        elif existing == f.content:
            action = "unchanged"
        else:
            action = "overwrite" if force else "keep"
        out.append(Written(f.path, action, f.description))
        if dry_run or action not in {"create", "overwrite"}:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, f.content, root=root, newline="")
    return out


def _read(path: Path) -> str | None:
    """The file's text; None when there is none (a dangling symlink included)."""
    if not path.exists():
        return None
    try:
        return read_text(path, Limit.PROJECT, "file", error=UsageError)
    except UsageError:
        return ""  # unreadable: different content, kept unless --force
