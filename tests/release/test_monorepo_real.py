"""Monorepos on a real lerna-style repository: fixed versioning (every package shares the
`v{version}` tags), one CHANGELOG.md per package, a package directory renamed in 2022
(`paths:` lists the old path too), commits whose scope names a package but that touch only
root files (`scopes:`, opt-in), and reverts whose own files do not show their package (a
GitHub squash revert touching only the lock file, a git revert doing the same, a revert PR
merged with a merge commit, which lists no files).

Every expected value below is read off the history `lerna_repo` builds.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.release.gitrepo import Repo, run

NOV_2021 = 1_635_724_800
MAR_2022 = 1_647_216_000

CONFIG = """\
packages:
  - name: commons
    paths: [packages/commons]
    tag_pattern: "v{version}"        # lerna fixed mode: one tag for every package
    scopes: true                     # `fix(commons): ...` counts wherever it changed files
  - name: logger
    paths: [packages/logger, packages/logging]   # packages/logging until the 2022 rename
    tag_pattern: "v{version}"
    scopes: [logger, logging]
  - name: metrics                    # no scopes: only its files count
    paths: [packages/metrics]
    tag_pattern: "v{version}"
  - name: tracer
    paths: [packages/tracer]
    tag_pattern: "v{version}"
"""


@dataclass
class Lerna:
    repo: Repo
    sha: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.repo.path

    def write(self, *files: str) -> None:
        for name in files:
            self.repo.counter += 1
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"{self.repo.counter}\n")

    def commit(self, key: str, subject: str, *files: str, body: str = "") -> str:
        """Write ``files`` and commit them (with a body when given) as ``key``."""
        self.write(*files)
        self.repo.git("add", "--", *files)
        return self.commit_staged(key, subject, body=body)

    def commit_staged(self, key: str, subject: str, *, body: str = "") -> str:
        self.repo.clock += 86_400
        message = ["-m", subject, *(["-m", body] if body else [])]
        self.repo.git("commit", "-q", *message, env=self.repo.env("Ana Lima", "ana@example.com"))
        self.sha[key] = self.repo.git("rev-parse", "HEAD")
        return self.sha[key]

    def git_as(self, key: str, *args: str) -> str:
        """A git command that commits (revert, merge), the next day, as ``key``."""
        self.repo.clock += 86_400
        self.repo.git(*args, env=self.repo.env("Bo Ek", "bo@example.com"))
        self.sha[key] = self.repo.git("rev-parse", "HEAD")
        return self.sha[key]

    def restore(self, path: str, rev: str) -> None:
        """Put ``path`` back as it was at ``rev`` (what a revert of the lock file does)."""
        (self.path / path).write_text(self.repo.git("show", f"{rev}:{path}") + "\n")
        self.repo.git("add", "--", path)

    def release(self, version: str, packages: list[str]) -> None:
        """lerna's release commit in fixed mode: lerna.json and the changed packages'
        package.json and CHANGELOG.md, tagged `v{version}`."""
        files = ["lerna.json"]
        for p in packages:
            files += [f"packages/{p}/package.json", f"packages/{p}/CHANGELOG.md"]
        self.commit(f"v{version}", f"chore(release): v{version} [skip ci]", *files)
        self.repo.tag(f"v{version}")


def build_lerna(path: Path) -> Lerna:
    r = Lerna(Repo(path, start=NOV_2021))
    (path / ".github").mkdir()
    (path / ".github" / "steward.yml").write_text(CONFIG)
    r.repo.git("add", ".github")
    packages = ["commons", "logging", "metrics", "tracer"]
    r.commit(
        "init",
        "chore: set up the lerna monorepo",
        "lerna.json",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "README.md",
        *[f"packages/{p}/{f}" for p in packages for f in ("package.json", "CHANGELOG.md")],
    )
    r.commit("parser", "feat(commons): event parser (#1)", "packages/commons/src/parser.ts")
    r.commit("logs", "feat(logging): structured logs (#2)", "packages/logging/src/index.ts")
    r.commit("emf", "feat(metrics): EMF output (#3)", "packages/metrics/src/index.ts")
    r.commit("capture", "feat(tracer): capture responses (#4)", "packages/tracer/src/index.ts")
    r.release("1.0.0", packages)

    r.commit(
        "child",
        "fix(logging): keep the level on child loggers (#5)",
        "packages/logging/src/index.ts",
    )
    r.commit("emf-docs", "docs(metrics): EMF limits (#6)", "docs/core/metrics.md")
    r.repo.clock = MAR_2022
    r.repo.git("mv", "packages/logging", "packages/logger")
    r.commit(
        "rename",
        "refactor(logger): rename the logging package to logger (#7)",
        "packages/logger/package.json",
    )
    r.commit("sampling", "feat(logger): sampling rate (#8)", "packages/logger/src/index.ts")
    r.commit("logger-docs", "docs(logger): sampling rate guide (#9)", "docs/core/logger.md")
    r.commit("format-docs", "docs(Logger,commons): the shared log format", "docs/core/format.md")
    r.commit("es2020", "fix(commons): target ES2020 in the shared tsconfig (#10)", "tsconfig.json")
    before_pin = r.repo.git("rev-parse", "HEAD")
    r.commit(
        "pin",
        "fix(metrics): pin the exporter (#11)",
        "packages/metrics/package.json",
        "package-lock.json",
    )
    # GitHub's "Revert" button, squash-merged; resolved against later work, it changed only
    # the lock file. Its message names the reverted PR, not a commit.
    r.restore("package-lock.json", before_pin)
    r.commit_staged(
        "unpin", 'Revert "fix(metrics): pin the exporter (#11)" (#12)', body="Reverts acme/tools#11"
    )
    r.commit(
        "flush",
        "fix(tracer): flush segments on shutdown (#13)",
        "packages/tracer/package.json",
        "package-lock.json",
    )
    r.release("1.1.0", ["logger", "metrics", "tracer"])

    # `git revert` of a commit that counts for commons by its scope: it touches root files.
    r.git_as("es2020-revert", "revert", "--no-edit", r.sha["es2020"])
    r.commit(
        "typed",
        "feat(tracer): typed annotations and metadata on every segment and subsegment (#14)",
        "packages/tracer/src/index.ts",
    )
    # Two revert PRs made with GitHub's "Revert" button: a branch with a plain git revert,
    # merged with a merge commit titled after the PR. GitHub names the PR's title, not the
    # squash commit's subject, and cuts it when long (as in the Powertools history:
    # `Revert "chore(deps-dev): bump cdklabs-generative-ai-cdk-constructs from 0.1.2…"`).
    # A merge commit lists no files.
    for key, target in (("typed", "typed"), ("sampling", "sampling")):
        r.repo.git("switch", "-q", "-c", f"revert-{key}", "main")
        r.git_as(f"{key}-revert", "revert", "--no-edit", r.sha[target])
        r.repo.git("switch", "-q", "main")
    r.commit("readme", "docs: contributing guide (#15)", "README.md")
    # The sampling PR was titled "feat(logger): add a sampling rate" and squashed as
    # "feat(logger): sampling rate (#8)": no commit has the name the revert gives, whose
    # scope still says logger.
    r.git_as(
        "sampling-merge",
        "merge",
        "-q",
        "--no-ff",
        "revert-sampling",
        "-m",
        'Revert "feat(logger): add a sampling rate" (#16)',
        "-m",
        "Reverts acme/tools#8",
    )
    r.git_as(
        "typed-merge",
        "merge",
        "-q",
        "--no-ff",
        "revert-typed",
        "-m",
        'Revert "feat(tracer): typed annotations and metadata on every segment and subs…" (#17)',
        "-m",
        "Reverts acme/tools#14",
    )
    # `git revert` of a released fix, resolved to the lock file alone (the release had
    # changed packages/tracer/package.json since).
    r.restore("package-lock.json", r.sha["flush"] + "^")
    r.commit_staged(
        "flush-revert",
        'Revert "fix(tracer): flush segments on shutdown (#13)"',
        body=f"This reverts commit {r.sha['flush']}.",
    )
    r.commit(
        "hires", "feat(metrics): high-resolution metrics (#18)", "packages/metrics/src/index.ts"
    )
    return r


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Lerna:
    return build_lerna(tmp_path_factory.mktemp("lerna") / "powertools")


@pytest.fixture
def lerna(built: Lerna, tmp_path: Path) -> Lerna:
    """A copy of the built repository, for a test to move HEAD in."""
    repo = copy.copy(built.repo)
    repo.path = tmp_path / "powertools"
    shutil.copytree(built.path, repo.path, symlinks=True)
    return Lerna(repo, dict(built.sha))


def changelog(
    lerna: Lerna, package: str, capsys: pytest.CaptureFixture[str]
) -> dict[str | None, dict[str, Any]]:
    code, out, err = run(
        ["changelog", "--path", str(lerna.path), "--package", package, "--json"], capsys
    )
    assert code == 0, err
    return {v["version"]: v for v in json.loads(out)["versions"]}


def sections(block: dict[str, Any]) -> dict[str, list[str]]:
    return {s["title"]: [e["subject"] for e in s["entries"]] for s in block["sections"]}


def reverts(block: dict[str, Any]) -> set[str]:
    return {r["sha"] for r in block["reverts"]}


def version_all(lerna: Lerna, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run(["version", "next", "--path", str(lerna.path), "--all", "--json"], capsys)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def rows(data: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    return [
        (p["package"], p["current"], p["version"], p["tag"], p["release"]) for p in data["packages"]
    ]


def test_renamed_package_keeps_its_history(
    lerna: Lerna, capsys: pytest.CaptureFixture[str]
) -> None:
    got = changelog(lerna, "logger", capsys)
    # v1.0.0 was all under packages/logging
    assert sections(got["1.0.0"]) == {
        "Features": ["structured logs"],
        "Maintenance": ["set up the lerna monorepo"],
    }
    fixes_and_refactors = {k: v for k, v in sections(got["1.1.0"]).items() if k != "Documentation"}
    assert fixes_and_refactors == {
        "Bug Fixes": ["keep the level on child loggers"],  # packages/logging, before the rename
        "Code Refactoring": ["rename the logging package to logger"],  # the git mv itself
        "Features": ["sampling rate"],  # packages/logger
    }
    # `{path}` is the first path: the current directory
    code, _, err = run(
        ["changelog", "--path", str(lerna.path), "--package", "logger", "--output"], capsys
    )
    assert code == 0, err
    written = (lerna.path / "packages" / "logger" / "CHANGELOG.md").read_text()
    assert "keep the level on child loggers" in written
    assert not (lerna.path / "packages" / "logging").exists()


def test_scopes_are_opt_in(lerna: Lerna, capsys: pytest.CaptureFixture[str]) -> None:
    # `scopes: true`: commons' own name; the commits touched only tsconfig.json and
    # docs/core/format.md (`docs(Logger,commons)`: each scope counts)
    assert sections(changelog(lerna, "commons", capsys)["1.1.0"]) == {
        "Bug Fixes": ["target ES2020 in the shared tsconfig"],
        "Documentation": ["the shared log format"],
    }
    # `scopes: [logger, logging]`: docs/core/*.md is outside packages/logger; `Logger` is
    # `logger` (sorted by scope as written: "Logger,commons" before "logger")
    assert sections(changelog(lerna, "logger", capsys)["1.1.0"])["Documentation"] == [
        "the shared log format",
        "sampling rate guide",
    ]
    # metrics has no `scopes:`: `docs(metrics)` on docs/core/metrics.md is not its change
    assert sections(changelog(lerna, "metrics", capsys)["1.1.0"]) == {
        "Bug Fixes": ["pin the exporter"]
    }


def test_a_revert_belongs_to_the_package_of_what_it_reverts(
    lerna: Lerna, capsys: pytest.CaptureFixture[str]
) -> None:
    # squash-merged GitHub revert naming a PR, touching only package-lock.json
    assert reverts(changelog(lerna, "metrics", capsys)["1.1.0"]) == {lerna.sha["unpin"]}
    # git revert naming the commit, touching only package-lock.json (the typed feature
    # and its branch's revert cancel out: gone from Unreleased)
    tracer = changelog(lerna, "tracer", capsys)[None]
    assert lerna.sha["flush-revert"] in reverts(tracer)
    assert sections(tracer) == {}
    # git revert of a commit that is commons' by its scope (root files only)
    assert reverts(changelog(lerna, "commons", capsys)[None]) == {lerna.sha["es2020-revert"]}
    # the merge commits of revert PRs list no files (their branches' reverts touch the
    # package): found by the PR title the revert names, for a package without scopes ...
    assert reverts(tracer) == {lerna.sha["flush-revert"], lerna.sha["typed-merge"]}
    # ... and by the scope of the name, when no commit has it
    logger = changelog(lerna, "logger", capsys)[None]
    assert reverts(logger) == {lerna.sha["sampling-merge"], lerna.sha["sampling-revert"]}
    # no other package gets them
    assert reverts(changelog(lerna, "metrics", capsys)[None]) == set()
    assert reverts(changelog(lerna, "logger", capsys)["1.1.0"]) == set()
    # the release notes from git read the same commits
    code, out, err = run(
        [
            "release",
            "notes",
            "--from-git",
            "--path",
            str(lerna.path),
            "--package",
            "tracer",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    titles = [c["title"] for cat in json.loads(out)["categories"] for c in cat["changes"]]
    assert titles == ['Revert "fix(tracer): flush segments on shutdown (#13)"']


def test_a_revert_cancels_what_it_reverts_in_its_package(
    lerna: Lerna, capsys: pytest.CaptureFixture[str]
) -> None:
    # Just before v1.1.0, metrics' only releasable changes since v1.0.0 are the pin and its
    # revert (the docs(metrics) commit is not its own): nothing to release.
    lerna.repo.git("switch", "-q", "--detach", lerna.sha["unpin"])
    code, out, err = run(
        ["version", "next", "--path", str(lerna.path), "--package", "metrics"], capsys
    )
    assert (code, out) == (0, "1.0.0\n"), err
    assert sections(changelog(lerna, "metrics", capsys)[None]) == {}


def test_fixed_versioning_gives_the_packages_one_version(
    lerna: Lerna, capsys: pytest.CaptureFixture[str]
) -> None:
    # Since v1.1.0: commons has a revert (patch), logger two (patch), metrics a feature
    # (minor), tracer a revert (patch). One tag for all: the largest bump, v1.2.0.
    data = version_all(lerna, capsys)
    assert rows(data) == [
        ("commons", "1.1.0", "1.2.0", "v1.2.0", True),
        ("logger", "1.1.0", "1.2.0", "v1.2.0", True),
        ("metrics", "1.1.0", "1.2.0", "v1.2.0", True),
        ("tracer", "1.1.0", "1.2.0", "v1.2.0", True),
    ]
    assert data["to_release"] == ["commons", "logger", "metrics", "tracer"]
    for package in ("commons", "tracer"):
        code, out, err = run(
            ["version", "next", "--path", str(lerna.path), "--package", package], capsys
        )
        assert (code, out) == (0, "1.2.0\n"), err


def test_fixed_versioning_releases_only_the_packages_that_changed(
    lerna: Lerna, capsys: pytest.CaptureFixture[str]
) -> None:
    # Just before v1.1.0: logger has a feature (minor), commons a fix by its scope (patch),
    # metrics a fix and its revert (nothing), tracer nothing. commons gets the group's 1.1.0.
    lerna.repo.git("switch", "-q", "--detach", lerna.sha["unpin"])
    data = version_all(lerna, capsys)
    assert rows(data) == [
        ("commons", "1.0.0", "1.1.0", "v1.1.0", True),
        ("logger", "1.0.0", "1.1.0", "v1.1.0", True),
        ("metrics", "1.0.0", "1.0.0", "v1.0.0", False),
        ("tracer", "1.0.0", "1.0.0", "v1.0.0", False),
    ]
    assert data["to_release"] == ["commons", "logger"]


def test_version_next_all_reads_the_history_in_one_pass(
    lerna: Lerna, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from steward.release import repository

    walks: list[bool] = []
    real = repository.iter_commits

    def counting(*args: Any, **kwargs: Any) -> Any:
        walks.append(bool(kwargs.get("no_walk")))
        return real(*args, **kwargs)

    monkeypatch.setattr(repository, "iter_commits", counting)
    version_all(lerna, capsys)
    # One `git log` over the history. Besides, each reverted commit that a revert's own
    # files do not settle is read on its own (`--no-walk`), once however many packages or
    # reverts ask: the tsconfig fix, the typed feature (named by the branch's revert and,
    # by its title, by the merge), the sampling feature and the flush fix.
    assert walks.count(False) == 1
    assert walks.count(True) == 4
