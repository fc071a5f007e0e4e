"""Per-repository `.github/steward.yml` through the App: read from the default branch with
the contents API, cached across workers, parsed once per blob, invalidated by a push to the
default branch that touches it (real push payloads, checked against GitHub's schema)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from steward.errors import ConfigError
from steward.github.records import content_from_api
from steward.github.repo_api import contents_path
from steward.server.etag import MemoryEtagStore
from steward.server.github_app import GitHubApp
from steward.server.repo_config import (
    MemoryConfigCache,
    RepoConfigs,
    file_from_contents,
    push_touches_config,
)
from tests.support import github_material, openapi
from tests.support.github_app_server import APP_ID, INSTALLATION_ID, GitHubAppServer, blob_sha
from tests.support.github_material import REPO

CONFIG = """\
size:
  prefix: "size-5/"
"""


def push_event(
    *, ref: str = "refs/heads/master", touched: tuple[str, ...] = (), forced: bool = False
) -> dict[str, Any]:
    """A real push example (to the default branch, by an installation) with its first
    commit's ``modified`` files set; validated against the official schema."""
    base = next(e for e in github_material.examples("push") if e["ref"] == "refs/heads/master")
    payload = copy.deepcopy(base)
    payload["ref"] = ref
    payload["forced"] = forced
    payload["commits"][0]["modified"] = list(touched)
    errors = list(github_material._validator("push$event").iter_errors(payload))
    assert not errors, errors[0].message
    return payload


@pytest.fixture
def gh() -> Iterator[GitHubAppServer]:
    with GitHubAppServer() as server:
        yield server
        server.assert_clean()


@pytest.fixture
def app(gh: GitHubAppServer) -> GitHubApp:
    return GitHubApp(APP_ID, gh.private_key_pem, base_url=gh.url, etags=MemoryEtagStore())


@pytest.fixture
def configs(app: GitHubApp) -> RepoConfigs:
    return RepoConfigs(app.github_for, MemoryConfigCache())


def test_config_is_read_from_the_repository_once_then_cached(
    gh: GitHubAppServer, configs: RepoConfigs
):
    sha = gh.set_file(".github/steward.yml", CONFIG)
    first = configs.config_for(INSTALLATION_ID, REPO)
    assert first.size.prefix == "size-5/"
    again = configs.config_for(INSTALLATION_ID, REPO)
    assert again is first  # parsed once per blob
    assert configs.fetches == 1
    contents = [c for c in gh.calls if "/contents/" in c.path]
    assert [c.path for c in contents] == [f"/repos/{REPO}/contents/.github/steward.yml"]
    assert configs.store.get(INSTALLATION_ID, REPO) == (sha, CONFIG)


def test_a_repository_without_config_gets_the_defaults_and_that_is_cached(
    gh: GitHubAppServer, configs: RepoConfigs
):
    config = configs.config_for(INSTALLATION_ID, REPO)
    assert config.size.prefix == "size/"
    configs.config_for(INSTALLATION_ID, REPO)
    tried = [c.path.rsplit("/", 1)[-1] for c in gh.calls if "/contents/" in c.path]
    assert tried == ["steward.yml", "steward.yaml"]  # both names, once
    assert configs.store.get(INSTALLATION_ID, REPO) == ("", "")


def test_the_yaml_spelling_is_found_too(gh: GitHubAppServer, configs: RepoConfigs):
    gh.set_file(".github/steward.yaml", CONFIG)
    assert configs.config_for(INSTALLATION_ID, REPO).size.prefix == "size-5/"


def test_an_invalid_config_names_the_repository_file_and_line(
    gh: GitHubAppServer, configs: RepoConfigs
):
    gh.set_file(".github/steward.yml", "size:\n  nonsense: 1\n")
    for _ in range(2):  # every time, from the cache the second time
        with pytest.raises(ConfigError, match=rf"{REPO}:\.github/steward\.yml:2: size\.nonsense"):
            configs.config_for(INSTALLATION_ID, REPO)
    assert configs.fetches == 1


def test_a_push_touching_the_config_invalidates_it_and_the_reread_is_a_304(
    gh: GitHubAppServer, configs: RepoConfigs
):
    gh.set_file(".github/steward.yml", CONFIG)
    configs.config_for(INSTALLATION_ID, REPO)
    assert not configs.on_push(INSTALLATION_ID, push_event(touched=("README.md",)))
    assert configs.on_push(INSTALLATION_ID, push_event(touched=(".github/steward.yml",)))
    assert configs.store.get(INSTALLATION_ID, REPO) is None
    configs.config_for(INSTALLATION_ID, REPO)  # unchanged after all: GitHub says 304
    assert configs.fetches == 2
    assert gh.not_modified == 1


def test_a_changed_config_is_seen_after_the_push(gh: GitHubAppServer, configs: RepoConfigs):
    gh.set_file(".github/steward.yml", CONFIG)
    assert configs.config_for(INSTALLATION_ID, REPO).size.prefix == "size-5/"
    gh.set_file(".github/steward.yml", CONFIG.replace("5", "7"))
    assert configs.config_for(INSTALLATION_ID, REPO).size.prefix == "size-5/"  # cached
    configs.on_push(INSTALLATION_ID, push_event(touched=(".github/steward.yml",)))
    assert configs.config_for(INSTALLATION_ID, REPO).size.prefix == "size-7/"


@pytest.mark.parametrize(
    ("kwargs", "touches"),
    [
        ({"touched": ("README.md",)}, False),
        ({"touched": (".github/steward.yml",)}, True),
        ({"touched": (".github/steward.yaml",)}, True),
        ({"touched": (".github/steward.yml",), "ref": "refs/heads/feature"}, False),
        ({"touched": (".github/steward.yml",), "ref": "refs/tags/v1.0.0"}, False),
        ({"touched": ("README.md",), "forced": True}, True),  # commits may be gone
    ],
)
def test_push_touches_config(kwargs: dict[str, Any], touches: bool):
    assert push_touches_config(push_event(**kwargs)) is touches


def test_a_push_whose_commit_list_may_be_cut_invalidates():
    payload = push_event()
    payload["commits"] = payload["commits"] * 2048
    assert push_touches_config(payload)
    removed = push_event()
    removed["commits"][0]["removed"] = [".github/steward.yml"]
    assert push_touches_config(removed)


def test_contents_path_keeps_slashes_and_encodes_each_segment():
    assert contents_path("o/r", ".github/steward.yml") == "/repos/o/r/contents/.github/steward.yml"
    assert contents_path("o/r", "a b/../c") == "/repos/o/r/contents/a%20b/%2E%2E/c"


def test_file_from_contents_reads_githubs_example_and_refuses_other_kinds():
    example = openapi.example("content-file-response-if-content-is-a-file")
    example["content"] = "c2l6ZTog\ne30K\n"  # "size: {}\n", wrapped as GitHub wraps it

    def read(data: Any) -> tuple[str, str]:
        return file_from_contents(content_from_api(data), "o/r:x")

    assert read(example) == (example["sha"], "size: {}\n")
    with pytest.raises(ConfigError, match="is a directory"):
        read([])
    with pytest.raises(ConfigError, match="is a symlink"):
        read({**example, "type": "symlink"})
    with pytest.raises(ConfigError, match="not UTF-8"):
        read({**example, "content": "/w==", "size": 1})
    with pytest.raises(ConfigError, match="over 1000000 bytes"):
        read({**example, "size": 2_000_000, "content": ""})


def test_the_blob_sha_is_gits():
    assert blob_sha(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
