"""The docs stage and the documentation hotfix with the real parts: MkDocs and mike pushing to
a bare git remote, the ARN pull request against the local GitHub test server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from steward.cli.docs_cmd import docs
from steward.config.docs import DocsConfig, LayerArnsConfig
from steward.config.model import StewardConfig
from steward.errors import ReleaseError, UsageError
from steward.github.client import GitHubClient
from steward.pipeline.context import Context
from steward.pipeline.stages.docs import (
    DocsStage,
    LayerArn,
    recorded_layer_arns,
    render_layer_arns,
)
from steward.pipeline.stages.seal import SealStage
from steward.pipeline.state import ReleaseState, StageRecord
from steward.release import docs_site
from tests.pipeline.conftest import COMMIT_EPOCH, git
from tests.pipeline.github_releases import ReleaseGitHub

MKDOCS = "site_name: Sample\nnav:\n  - Home: index.md\n"
INDEX = """# Sample

## Lambda layer

<!-- steward:layer-arns:start -->
| Region | Layer ARN |
| ------ | --------- |
| `eu-west-1` | `arn:aws:lambda:eu-west-1:017000801446:layer:SampleLayer:1` |
<!-- steward:layer-arns:end -->

Use `arn:aws:lambda:{region}:017000801446:layer:SampleLayer:1` in your template.
"""
PYPROJECT = '[project]\nname = "sample-docs"\nversion = "0.0.0"\n'
ARNS = {
    "eu-west-1": "arn:aws:lambda:eu-west-1:017000801446:layer:SampleLayer:7",
    "us-east-1": "arn:aws:lambda:us-east-1:017000801446:layer:SampleLayer:7",
}


@dataclass
class DocsRepo:
    root: Path
    remote: Path

    def commit(self, message: str = "docs: change") -> str:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)
        git(self.root, "push", "-q", "origin", "develop")
        return git(self.root, "rev-parse", "HEAD")

    def docs_branch(self) -> str | None:
        return docs_site.remote_ref(self.root, "origin", "refs/heads/gh-pages")

    def remote_file(self, rev: str, rel: str) -> str:
        return git(self.remote, "show", f"{rev}:{rel}")

    def remote_tree(self, rev: str) -> dict[str, str]:
        """name -> mode of the top level of ``rev`` on the remote."""
        out = {}
        for line in git(self.remote, "ls-tree", rev).splitlines():
            meta, name = line.split("\t")
            out[name] = meta.split()[0]
        return out


@pytest.fixture
def repo(tmp_path: Path) -> DocsRepo:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(MKDOCS)
    (root / "docs" / "index.md").write_text(INDEX)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / ".gitignore").write_text(".steward/\nsite/\n")
    git(root, "init", "-q", "-b", "develop")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    r = DocsRepo(root, remote)
    r.commit("feat: sample with docs")
    return r


def _env() -> dict[str, str]:
    return {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


@pytest.fixture
def gh() -> Iterator[ReleaseGitHub]:
    with ReleaseGitHub() as server:
        yield server
    assert server.violations == []


def context(
    repo: DocsRepo,
    version: str,
    *,
    prerelease: bool = False,
    gh: ReleaseGitHub | None = None,
    layer_arns: dict[str, str] | None = None,
) -> Context:
    commit = git(repo.root, "rev-parse", "HEAD")
    state = ReleaseState(version, {"commit": commit, "epoch": COMMIT_EPOCH})
    if layer_arns is not None:
        rec = state.stage("layer-prod")
        rec.status = "completed"
        rec.details = {"arns": layer_arns, "layer_version": 7}
    config = StewardConfig.model_validate({"release": {"repository": "octo-org/sample"}})
    github = None
    if gh is not None:
        server = gh
        github = lambda: GitHubClient(server.token, server.url, max_retries=0)  # noqa: E731
    rdir = repo.root / ".steward" / "releases" / version
    return Context(repo.root, version, prerelease, config, state, rdir, _env(), _quiet, github)


def _quiet(_msg: str) -> None:
    return None


ENABLED = DocsConfig(enabled=True)
WITH_ARNS = DocsConfig(
    enabled=True, layer_arns=LayerArnsConfig(file="docs/index.md", format="markdown")
)


def run_stage(ctx: Context, config: DocsConfig = ENABLED) -> StageRecord:
    rec = ctx.state.stage("docs")
    rec.details, rec.outputs = {}, {}
    DocsStage(config).run(ctx, rec)
    rec.status = "completed"
    return rec


# -- deploy ----------------------------------------------------------------------------------


def test_docs_stage_deploys_the_version_and_the_latest_alias_to_the_docs_branch(
    repo: DocsRepo,
) -> None:
    rec = run_stage(context(repo, "1.2.0"))

    sha = repo.docs_branch()
    assert sha is not None
    assert rec.details["commit"] == sha
    assert rec.details["changed"] is True
    tree = repo.remote_tree(sha)
    assert tree["1.2.0"] == "040000"
    assert tree["latest"] == "120000"  # mike's alias: a symlink to the version
    assert repo.remote_file(sha, "latest") == "1.2.0"
    assert "Sample" in repo.remote_file(sha, "1.2.0/index.html")
    versions = json.loads(repo.remote_file(sha, "versions.json"))
    assert versions == [{"version": "1.2.0", "title": "1.2.0", "aliases": ["latest"]}]
    assert "latest/" in repo.remote_file(sha, "index.html")  # set-default redirect


def test_redeploying_the_same_version_makes_no_new_commit(repo: DocsRepo) -> None:
    run_stage(context(repo, "1.2.0"))
    first = repo.docs_branch()

    rec = run_stage(context(repo, "1.2.0"))

    assert repo.docs_branch() == first
    assert rec.details["changed"] is False
    assert git(repo.remote, "rev-list", "--count", "gh-pages") == "2"  # deploy + set-default


def test_the_next_release_moves_latest_and_keeps_the_older_version(repo: DocsRepo) -> None:
    run_stage(context(repo, "1.2.0"))
    (repo.root / "docs" / "index.md").write_text(INDEX + "\nNew page text.\n")
    repo.commit("docs: more")

    run_stage(context(repo, "1.3.0"))

    sha = repo.docs_branch()
    assert sha is not None
    assert repo.remote_file(sha, "latest") == "1.3.0"
    assert "New page text" in repo.remote_file(sha, "1.3.0/index.html")
    assert "New page text" not in repo.remote_file(sha, "1.2.0/index.html")
    versions = json.loads(repo.remote_file(sha, "versions.json"))
    assert [(v["version"], v["aliases"]) for v in versions] == [
        ("1.3.0", ["latest"]),
        ("1.2.0", []),
    ]


def test_docs_are_built_from_the_sealed_source(repo: DocsRepo) -> None:
    ctx = context(repo, "2.0.0")
    seal = ctx.state.stage("seal")
    SealStage().run(ctx, seal)
    seal.status = "completed"
    (repo.root / "docs" / "index.md").write_text("# Uncommitted worktree text\n")

    run_stage(ctx)

    sha = repo.docs_branch()
    assert sha is not None
    page = repo.remote_file(sha, "2.0.0/index.html")
    assert "Uncommitted" not in page
    assert "Lambda layer" in page


def test_unconfigured_docs_and_prereleases_are_skipped_without_touching_git(
    repo: DocsRepo,
) -> None:
    ctx = context(repo, "1.2.0")
    assert DocsStage(DocsConfig()).plan(ctx) == [
        "nothing: docs are not configured (release.docs.enabled is false)"
    ]
    rec = run_stage(ctx, DocsConfig())
    assert "not configured" in rec.details["skipped"]

    no_pre = DocsConfig(enabled=True, include_prereleases=False)
    pre = run_stage(context(repo, "1.3.0a1", prerelease=True), no_pre)
    assert "pre-release" in pre.details["skipped"]
    assert repo.docs_branch() is None
    DocsStage(ENABLED).verify(ctx, pre)  # nothing recorded, nothing to check


def test_a_prerelease_deploys_without_moving_the_alias_when_included(repo: DocsRepo) -> None:
    run_stage(context(repo, "1.2.0"))
    config = DocsConfig(enabled=True, include_prereleases=True)

    run_stage(context(repo, "1.3.0a1", prerelease=True), config)

    sha = repo.docs_branch()
    assert sha is not None
    assert repo.remote_file(sha, "latest") == "1.2.0"
    assert "1.3.0a1" in repo.remote_tree(sha)


def test_plan_lists_the_mike_commands(repo: DocsRepo) -> None:
    lines = DocsStage(WITH_ARNS).plan(context(repo, "1.2.0"))
    text = "\n".join(lines)
    assert "push steward/layer-arns-1.2.0 and open a PR to develop" in text
    assert (
        "mike deploy --config-file mkdocs.yml --remote origin --branch gh-pages --push "
        "--message 'docs: deploy 1.2.0 from"
    ) in text
    assert "--update-aliases 1.2.0 latest" in text
    assert (
        "mike set-default --config-file mkdocs.yml --remote origin --branch gh-pages --push latest"
        in text
    )
    assert repo.docs_branch() is None


def test_verify_checks_the_remote_still_holds_the_version(repo: DocsRepo) -> None:
    ctx = context(repo, "1.2.0")
    rec = run_stage(ctx)
    stage = DocsStage(ENABLED)
    stage.verify(ctx, rec)

    git(repo.remote, "branch", "-D", "gh-pages")

    with pytest.raises(ReleaseError, match=r"no longer holds docs 1\.2\.0"):
        stage.verify(ctx, rec)


def test_a_missing_mike_is_a_clear_error_and_a_preflight_problem(repo: DocsRepo) -> None:
    config = DocsConfig(enabled=True, mike_command=["no-such-mike-here"])
    ctx = context(repo, "1.2.0")
    assert DocsStage(config).preflight(ctx) == [
        "docs: no-such-mike-here is not installed: install the docs toolchain "
        "(pip install mkdocs mike) or set release.docs.mike_command"
    ]
    with pytest.raises(ReleaseError, match="no-such-mike-here is not installed"):
        run_stage(ctx, config)


def test_a_missing_mkdocs_config_fails_naming_it(repo: DocsRepo) -> None:
    config = DocsConfig(enabled=True, mkdocs_config="site/mkdocs.yml")
    with pytest.raises(ReleaseError, match=r"no MkDocs config site/mkdocs\.yml"):
        run_stage(context(repo, "1.2.0"), config)


# -- the layer ARN pull request ---------------------------------------------------------------


def test_layer_arns_open_one_pr_and_appear_in_the_deployed_docs(
    repo: DocsRepo, gh: ReleaseGitHub
) -> None:
    (repo.root / "CHANGELOG.md").write_text("Kept intro.\n\n")
    repo.commit("fix: a fix before the release")
    git(repo.root, "tag", "v1.2.0")
    (repo.root / "NEWS").write_text("later\n")
    repo.commit("feat: after the release")  # the trunk moved on; the PR is based on it
    ctx = context(repo, "1.2.0", gh=gh, layer_arns=ARNS)
    assert DocsStage(WITH_ARNS).preflight(ctx) == []

    rec = run_stage(ctx, WITH_ARNS)

    (pr,) = gh.pulls
    assert pr["number"] == rec.details["layer_arn_pr"]
    assert pr["title"] == "docs(layers): update layer ARNs for v1.2.0"
    assert pr["head"]["ref"] == "steward/layer-arns-1.2.0"
    assert pr["base"]["ref"] == "develop"
    assert ARNS["us-east-1"] in pr["body"]
    assert "Also updates `CHANGELOG.md` for v1.2.0." in pr["body"]
    branch = git(repo.remote, "rev-parse", "refs/heads/steward/layer-arns-1.2.0")
    # #19: the layer ARN PR carries the CHANGELOG update too, as the playbook's does
    assert git(repo.remote, "log", "--format=%s", f"develop..{branch}").splitlines() == [
        "docs(changelog): update changelog for v1.2.0",
        "docs(layers): update layer ARNs for v1.2.0",
    ]
    assert git(repo.remote, "rev-parse", f"{branch}~2") == git(repo.remote, "rev-parse", "develop")
    assert rec.details["layer_arn_pr_files"] == ["docs/index.md", "CHANGELOG.md"]
    changelog = repo.remote_file(branch, "CHANGELOG.md")
    assert "Kept intro." in changelog
    released = changelog.split("1.2.0", 1)[1]
    assert "a fix before the release" in released
    assert "after the release" in changelog.split("1.2.0", 1)[0]  # still unreleased
    updated = repo.remote_file(branch, "docs/index.md")
    assert f"| `us-east-1` | `{ARNS['us-east-1']}` |" in updated
    assert "layer:SampleLayer:1`" not in updated.split("<!-- steward:layer-arns:end -->")[0]
    docs = repo.docs_branch()
    assert docs is not None
    assert ARNS["us-east-1"] in repo.remote_file(docs, "1.2.0/index.html")

    gh.reset_calls()
    again = run_stage(context(repo, "1.2.0", gh=gh, layer_arns=ARNS), WITH_ARNS)

    assert len(gh.pulls) == 1
    assert gh.writes() == []
    assert again.details["layer_arn_pr"] == pr["number"]
    assert git(repo.remote, "rev-parse", "refs/heads/steward/layer-arns-1.2.0") == branch
    assert repo.docs_branch() == docs


def test_an_up_to_date_docs_file_opens_no_pr(repo: DocsRepo, gh: ReleaseGitHub) -> None:
    arns = [a for a in (LayerArn.parse(v) for v in ARNS.values()) if a is not None]
    text = render_layer_arns(INDEX, arns, "markdown")
    (repo.root / "docs" / "index.md").write_text(text)
    repo.commit("docs: ARNs by hand")

    arns_only = DocsConfig(
        enabled=True,
        layer_arns=LayerArnsConfig(file="docs/index.md", format="markdown", changelog=False),
    )
    rec = run_stage(context(repo, "1.2.0", gh=gh, layer_arns=ARNS), arns_only)

    assert gh.pulls == []
    assert rec.details["layer_arn_pr"] == "docs/index.md on develop up to date"


def test_no_recorded_arns_means_no_pr_but_the_docs_deploy(
    repo: DocsRepo, gh: ReleaseGitHub
) -> None:
    rec = run_stage(context(repo, "1.2.0", gh=gh), WITH_ARNS)
    assert rec.details["layer_arns"] == "none recorded by stage layer-prod"
    assert gh.pulls == []
    assert repo.docs_branch() is not None


def test_the_arn_pr_needs_github(repo: DocsRepo) -> None:
    ctx = context(repo, "1.2.0", layer_arns=ARNS)
    assert DocsStage(WITH_ARNS).preflight(ctx) == [
        "the layer ARN PR needs GITHUB_TOKEN (or --skip docs)"
    ]
    with pytest.raises(ReleaseError, match="needs GitHub access"):
        run_stage(ctx, WITH_ARNS)


# -- rendering (pure) ------------------------------------------------------------------------


def _arns(*texts: str) -> list[LayerArn]:
    out = [LayerArn.parse(t) for t in texts]
    assert all(a is not None for a in out)
    return [a for a in out if a is not None]


def test_recorded_layer_arns_are_found_in_any_shape_and_sorted() -> None:
    state = ReleaseState("1.0.0")
    rec = state.stage("layer-prod")
    rec.status = "completed"
    rec.details = {
        "layers": [
            {"arn": ARNS["us-east-1"], "region": "us-east-1"},
            {"arn": "arn:aws:lambda:eu-west-1:017000801446:layer:SampleLayer-arm64:7"},
        ],
        "by_region": {"eu-west-1": ARNS["eu-west-1"]},
        "note": "not an ARN",
        "placeholder": "arn:aws:lambda:{region}:017000801446:layer:SampleLayer:7",
    }
    assert [a.arn for a in recorded_layer_arns(state, "layer-prod")] == [
        ARNS["eu-west-1"],
        ARNS["us-east-1"],
        "arn:aws:lambda:eu-west-1:017000801446:layer:SampleLayer-arm64:7",
    ]
    rec.status = "failed"
    assert recorded_layer_arns(state, "layer-prod") == []
    assert recorded_layer_arns(state, "no-such-stage") == []


def test_markdown_table_between_markers_is_stable() -> None:
    arns = _arns(*ARNS.values(), "arn:aws:lambda:eu-west-1:017000801446:layer:Other:3")
    once = render_layer_arns(INDEX, arns, "markdown")
    assert render_layer_arns(once, arns, "markdown") == once
    between = once.split("<!-- steward:layer-arns:start -->\n")[1].split("\n<!-- steward")[0]
    assert between.splitlines() == [
        "**Other**",
        "",
        "| Region | Layer ARN |",
        "| ------ | --------- |",
        "| `eu-west-1` | `arn:aws:lambda:eu-west-1:017000801446:layer:Other:3` |",
        "",
        "**SampleLayer**",
        "",
        "| Region | Layer ARN |",
        "| ------ | --------- |",
        f"| `eu-west-1` | `{ARNS['eu-west-1']}` |",
        f"| `us-east-1` | `{ARNS['us-east-1']}` |",
    ]
    assert once.startswith("# Sample\n\n## Lambda layer\n\n")
    assert once.endswith(
        "Use `arn:aws:lambda:{region}:017000801446:layer:SampleLayer:1` in your template.\n"
    )


def test_markdown_without_markers_is_an_error_naming_the_file() -> None:
    with pytest.raises(ReleaseError, match=r"docs/x\.md has no <!-- steward:layer-arns:start -->"):
        render_layer_arns("# no table\n", _arns(ARNS["eu-west-1"]), "markdown", where="docs/x.md")
    with pytest.raises(ReleaseError, match="does not exist"):
        render_layer_arns(None, _arns(ARNS["eu-west-1"]), "markdown")


def test_replace_updates_every_arn_of_a_published_layer_like_the_playbooks_sed() -> None:
    text = (
        "x86: arn:aws:lambda:eu-west-1:017000801446:layer:SampleLayer:1\n"
        "any: arn:aws:lambda:{region}:017000801446:layer:SampleLayer:1\n"
        "other account: arn:aws:lambda:eu-west-1:999999999999:layer:SampleLayer:1\n"
        "china: arn:aws-cn:lambda:cn-north-1:017000801446:layer:SampleLayer:1\n"
    )
    out = render_layer_arns(text, _arns(*ARNS.values()), "replace")
    assert out.splitlines() == [
        "x86: arn:aws:lambda:eu-west-1:017000801446:layer:SampleLayer:7",
        "any: arn:aws:lambda:{region}:017000801446:layer:SampleLayer:7",
        "other account: arn:aws:lambda:eu-west-1:999999999999:layer:SampleLayer:1",
        "china: arn:aws-cn:lambda:cn-north-1:017000801446:layer:SampleLayer:1",
    ]
    assert render_layer_arns(out, _arns(*ARNS.values()), "replace") == out
    split = _arns(ARNS["eu-west-1"], "arn:aws:lambda:us-east-1:017000801446:layer:SampleLayer:8")
    assert "{region}:017000801446:layer:SampleLayer:1" in render_layer_arns(text, split, "replace")
    with pytest.raises(ReleaseError, match="names none of the published layers"):
        render_layer_arns("nothing here\n", _arns(ARNS["eu-west-1"]), "replace")


def test_json_lists_layers_by_name_and_region() -> None:
    out = render_layer_arns(None, _arns(*ARNS.values()), "json", version="1.2.0")
    assert json.loads(out) == {
        "version": "1.2.0",
        "layers": {"SampleLayer": {"eu-west-1": ARNS["eu-west-1"], "us-east-1": ARNS["us-east-1"]}},
    }


def test_docs_version_name_and_alias_choice_are_pure() -> None:
    assert docs_site.docs_version_name("{major}.{minor}", "3.2.1") == "3.2"
    assert docs_site.docs_version_name("{version}", "v3.2.1") == "3.2.1"
    versions = [
        docs_site.DocsVersion("1.3.0", "1.3.0", ("latest",)),
        docs_site.DocsVersion("1.2.0", "1.2.0"),
    ]
    assert docs_site.takes_alias(versions, "1.3.0", "latest")
    assert docs_site.takes_alias(versions, "1.4.0", "latest")
    assert not docs_site.takes_alias(versions, "1.2.0", "latest")
    assert docs_site.takes_alias([], "0.1.0", "latest")


def test_docs_config_refuses_paths_outside_the_repository_and_unknown_placeholders() -> None:
    with pytest.raises(ValueError, match="inside the repository"):
        DocsConfig(mkdocs_config="../mkdocs.yml")
    with pytest.raises(ValueError, match="inside the repository"):
        LayerArnsConfig(file="/etc/passwd")
    with pytest.raises(ValueError, match=r"unknown placeholder \{patch\}"):
        DocsConfig(version_name="{patch}")
    with pytest.raises(ValueError, match=r"unknown placeholder \{when\}"):
        LayerArnsConfig(branch="docs-{when}")


# -- steward docs rebuild (the documentation hotfix) ------------------------------------------


def rebuild(repo: DocsRepo, *args: str) -> tuple[int, str]:
    runner = CliRunner()
    result = runner.invoke(
        docs, ["rebuild", "--path", str(repo.root), *args], env=_env(), catch_exceptions=False
    )
    return result.exit_code, result.output


def test_docs_rebuild_redeploys_a_released_version_from_the_checkout(repo: DocsRepo) -> None:
    tag(repo, "1.2.0")
    run_stage(context(repo, "1.2.0"))
    (repo.root / "docs" / "index.md").write_text(INDEX + "\nHotfixed typo.\n")
    repo.commit("docs: fix a typo")

    code, out = rebuild(repo, "--version", "1.2.0")

    assert code == 0, out
    sha = repo.docs_branch()
    assert sha is not None
    assert "Hotfixed typo" in repo.remote_file(sha, "1.2.0/index.html")
    assert repo.remote_file(sha, "latest") == "1.2.0"
    assert "deployed" in out

    code, out = rebuild(repo, "--version", "1.2.0")
    assert code == 0, out
    assert repo.docs_branch() == sha
    assert "nothing changed" in out


def test_docs_rebuild_of_an_older_version_leaves_latest_alone(repo: DocsRepo) -> None:
    tag(repo, "1.2.0", "1.3.0")
    run_stage(context(repo, "1.2.0"))
    run_stage(context(repo, "1.3.0"))

    code, out = rebuild(repo, "--version", "1.2.0", "--json")

    assert code == 0, out
    data = json.loads(out)
    assert data["version"] == "1.2.0"
    assert data["alias"] is None
    sha = repo.docs_branch()
    assert sha is not None
    assert repo.remote_file(sha, "latest") == "1.3.0"


def test_docs_rebuild_dry_run_touches_nothing(repo: DocsRepo) -> None:
    tag(repo, "1.2.0")
    code, out = rebuild(repo, "--version", "1.2.0", "--dry-run")
    assert code == 0, out
    assert "mike deploy" in out
    assert repo.docs_branch() is None


def test_recorded_layer_arns_read_the_layer_prod_stages_record() -> None:
    """The shape layer-prod records: region -> architecture -> {arn, reused}."""
    state = ReleaseState("1.0.0")
    rec = state.stage("layer-prod")
    rec.status = "completed"
    rec.details = {
        "account": "017000801446",
        "layers": {
            "us-east-1": {
                "x86_64": {"arn": ARNS["us-east-1"], "reused": False},
                "arm64": {
                    "arn": "arn:aws:lambda:us-east-1:017000801446:layer:SampleLayer-Arm64:7",
                    "reused": True,
                },
            },
        },
        "tasks": [{"title": "us-east-1", "started": 1.0, "finished": 2.0}],
    }
    assert [a.arn for a in recorded_layer_arns(state, "layer-prod")] == [
        ARNS["us-east-1"],
        "arn:aws:lambda:us-east-1:017000801446:layer:SampleLayer-Arm64:7",
    ]


# -- #19: only released versions, an honest dry run, pre-releases under `alpha` ---------------


def tag(repo: DocsRepo, *versions: str) -> None:
    for version in versions:
        git(repo.root, "tag", f"v{version}")


def test_docs_rebuild_refuses_a_version_that_was_never_released(repo: DocsRepo) -> None:
    """#19: `--version 9.9.9` deployed docs for a release that never happened and moved
    `latest` to it."""
    tag(repo, "1.2.0", "1.3.0")
    run_stage(context(repo, "1.3.0"))
    before = repo.docs_branch()

    for extra in ((), ("--dry-run",)):
        with pytest.raises(UsageError) as caught:
            rebuild(repo, "--version", "9.9.9", *extra)
        message = str(caught.value)
        assert caught.value.exit_code == 2
        assert "no release tag v9.9.9" in message
        assert "v1.3.0" in message  # the release tags nearest to it are named
        assert repo.docs_branch() == before

    with pytest.raises(UsageError, match=r"v1\.2\.1.*nearest release tags: v1\.2\.0, v1\.3\.0"):
        rebuild(repo, "--version", "1.2.1")


def test_docs_rebuild_finds_a_release_tag_only_on_the_remote(repo: DocsRepo) -> None:
    """A CI checkout fetches no tags: the remote's are asked too."""
    tag(repo, "1.2.0")
    git(repo.root, "push", "-q", "origin", "v1.2.0")
    git(repo.root, "tag", "-d", "v1.2.0")

    code, out = rebuild(repo, "--version", "1.2.0", "--dry-run")

    assert code == 0, out


def test_docs_rebuild_dry_run_says_whether_latest_moves(repo: DocsRepo) -> None:
    """#19: the dry run printed `--update-aliases 1.2.0 latest` while the real run would
    leave `latest` on the newer 1.3.0."""
    tag(repo, "1.2.0", "1.3.0", "1.4.0")
    run_stage(context(repo, "1.2.0"))
    run_stage(context(repo, "1.3.0"))
    before = repo.docs_branch()

    code, out = rebuild(repo, "--version", "1.2.0", "--dry-run")

    assert code == 0, out
    assert "--update-aliases" not in out
    assert "set-default" not in out
    assert "latest stays on 1.3.0 (newer than 1.2.0)" in out
    assert "--push --message 'docs: rebuild 1.2.0 from" in out
    assert repo.docs_branch() == before

    code, out = rebuild(repo, "--version", "1.4.0", "--dry-run", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["alias"] == "latest"
    plan = "\n".join(data["plan"])
    assert "--update-aliases 1.4.0 latest" in plan
    assert "latest moves from 1.3.0 to 1.4.0" in plan
    assert repo.docs_branch() == before


def test_a_prerelease_deploys_under_alpha_without_moving_latest(repo: DocsRepo) -> None:
    """#19: pre-releases deploy by default under the `alpha` alias (the seed's pre-release
    docs), never under `latest`, never as the site's default."""
    run_stage(context(repo, "1.2.0"))

    rec = run_stage(context(repo, "1.3.0a1", prerelease=True))

    assert rec.details["alias"] == "alpha"
    sha = repo.docs_branch()
    assert sha is not None
    assert repo.remote_file(sha, "latest") == "1.2.0"
    assert repo.remote_file(sha, "alpha") == "1.3.0a1"
    assert "latest/" in repo.remote_file(sha, "index.html")  # the default is still latest
    versions = {
        v["version"]: v["aliases"] for v in json.loads(repo.remote_file(sha, "versions.json"))
    }
    assert versions == {"1.3.0a1": ["alpha"], "1.2.0": ["latest"]}


def test_docs_rebuild_of_a_prerelease_moves_alpha_not_latest(repo: DocsRepo) -> None:
    tag(repo, "1.2.0", "1.3.0a1", "1.3.0b1")
    run_stage(context(repo, "1.2.0"))
    run_stage(context(repo, "1.3.0b1", prerelease=True))

    code, out = rebuild(repo, "--version", "1.3.0a1", "--dry-run")
    assert code == 0, out
    assert "alpha stays on 1.3.0b1 (newer than 1.3.0a1)" in out
    assert "--update-aliases" not in out

    code, out = rebuild(repo, "--version", "1.3.0a1")
    assert code == 0, out
    sha = repo.docs_branch()
    assert sha is not None
    assert repo.remote_file(sha, "alpha") == "1.3.0b1"
    assert repo.remote_file(sha, "latest") == "1.2.0"
    assert "1.3.0a1" in repo.remote_tree(sha)


def test_the_layer_arn_pr_refuses_a_changelog_without_the_release(
    repo: DocsRepo, gh: ReleaseGitHub
) -> None:
    """No tag for the release on the checkout's line: its CHANGELOG section cannot be
    written, and the stage says so instead of opening a PR without it."""
    with pytest.raises(ReleaseError, match=r"the changelog has no section for v1\.2\.0"):
        run_stage(context(repo, "1.2.0", gh=gh, layer_arns=ARNS), WITH_ARNS)
    assert gh.pulls == []


def test_a_patch_of_an_older_line_released_later_leaves_latest_alone(repo: DocsRepo) -> None:
    """The stage moved `latest` to whatever it released, e.g. back to 1.2.1 from 1.3.0."""
    run_stage(context(repo, "1.3.0"))

    rec = run_stage(context(repo, "1.2.1"))

    assert rec.details["alias"] is None
    sha = repo.docs_branch()
    assert sha is not None
    assert repo.remote_file(sha, "latest") == "1.3.0"
    assert "1.2.1" in repo.remote_tree(sha)
