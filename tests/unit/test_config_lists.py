"""Nothing in the config is ignored silently (#16): a list that names an item twice (labels
compare case-blind, as GitHub's do), a value no event can carry (an author association
GitHub does not have), a version that is no version or a timeout of forever is an error
naming the item, its file and line, exit 2; never folded or skipped without a word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.config.loader import parse_config
from steward.errors import ConfigError
from tests.support.openapi import SPEC_PATH

SOURCE = ".github/steward.yml"

LAYER = "release:\n  layer:\n    name: 'x-{arch}'\n"
SAR = "release:\n  sar:\n    name: app\n    template: t.yaml\n    author: me\n    description: d\n"


CASES = [
    # policies
    (
        "merge_gate:\n  block_labels: [do-not-merge, Do-Not-Merge]\n",
        2,
        "merge_gate.block_labels",
        "'Do-Not-Merge' is listed twice (as 'do-not-merge')",
    ),
    ("sweep:\n  exempt_labels:\n    - RFC\n    - rfc\n", 2, "sweep.exempt_labels", "'rfc'"),
    ("size:\n  ignore: ['*.lock', '*.lock']\n", 2, "size.ignore", "'*.lock' is listed twice"),
    (
        "areas:\n  rules:\n    - label: docs\n      any: [docs/**, docs/**]\n",
        4,
        "areas.rules.0.any",
        "'docs/**' is listed twice",
    ),
    (
        "triage:\n  first_time_associations: [FIRST_TIMER, FIRST_TIMER]\n",
        2,
        "triage.first_time_associations",
        "'FIRST_TIMER' is listed twice",
    ),
    (
        "triage:\n  first_issue_search: [none]\n",
        2,
        "triage.first_issue_search",
        "'none' is not an author association GitHub gives (COLLABORATOR, CONTRIBUTOR,",
    ),
    (
        "triage:\n  first_time_associations: [FIRST_TIME]\n",
        2,
        "triage.first_time_associations",
        "'FIRST_TIME' is not an author association",
    ),
    # release intelligence
    ("version:\n  minor_types: [feat, feat]\n", 2, "version.minor_types", "'feat'"),
    ("version:\n  patch_types: [fix, perf, fix]\n", 2, "version.patch_types", "'fix'"),
    ("version:\n  ignore_types: [ci, ci]\n", 2, "version.ignore_types", "'ci'"),
    ("version:\n  ignore_tags: ['^x', '^x']\n", 2, "version.ignore_tags", "'^x'"),
    (
        "version:\n  initial_version: banana\n",
        2,
        "version.initial_version",
        "'banana' is not a PEP 440 version",
    ),
    ("changelog:\n  exclude: ['^a', '^a']\n", 2, "changelog.exclude", "'^a'"),
    (
        "packages:\n  - name: a\n    paths: [a, b, a/]\n",
        3,
        "packages.0.paths",
        "'a' is listed twice",
    ),
    (
        "packages:\n  - name: a\n    paths: [a]\n    scopes: [core, Core]\n",
        4,
        "packages.0.scopes",
        "'Core' is listed twice (as 'core')",
    ),
    (
        "release_notes:\n  categories:\n    - {title: Fixes, labels: [bug]}\n"
        "    - {title: Fixes, labels: [fix]}\n",
        2,
        "release_notes.categories",
        "the category 'Fixes' is listed twice",
    ),
    (
        "release_notes:\n  categories:\n    - {title: Fixes, labels: [bug, Bug]}\n",
        3,
        "release_notes.categories.0.labels",
        "'Bug' is listed twice (as 'bug')",
    ),
    (
        "release_notes:\n  categories:\n    - {title: Fixes, labels: [bug]}\n"
        "    - {title: Bugs, labels: [Bug]}\n",
        2,
        "release_notes.categories",
        "label 'Bug' is in the categories 'Fixes' and 'Bugs': a PR goes in the first only",
    ),
    (
        "release_notes:\n  exclude_labels: [skip, skip]\n",
        2,
        "release_notes.exclude_labels",
        "'skip'",
    ),
    ("release_notes:\n  major_labels: [x, X]\n", 2, "release_notes.major_labels", "'X'"),
    ("release_notes:\n  minor_labels: [f, f]\n", 2, "release_notes.minor_labels", "'f'"),
    (
        "release_notes:\n  maintainers: [Leandro, leandro]\n",
        2,
        "release_notes.maintainers",
        "'leandro' is listed twice (as 'Leandro')",
    ),
    # the release pipeline
    (LAYER + "    extras: [aws, aws]\n", 4, "release.layer.extras", "'aws'"),
    (LAYER + "    imports: [m, m]\n", 4, "release.layer.imports", "'m'"),
    (
        LAYER + "    extra_index_urls: [https://x.test/simple, https://x.test/simple]\n",
        4,
        "release.layer.extra_index_urls",
        "'https://x.test/simple'",
    ),
    (
        LAYER + "    compatible_runtimes: [python3.12, python3.12]\n",
        4,
        "release.layer.compatible_runtimes",
        "'python3.12'",
    ),
    (SAR + "    labels: [a, a]\n", 7, "release.sar.labels", "'a'"),
    (
        "release:\n  quality_timeout: .inf\n",
        2,
        "release.quality_timeout",
        "finite number",
    ),
    ("release:\n  quality_timeout: .nan\n", 2, "release.quality_timeout", ""),
    ("release:\n  docs:\n    timeout: .inf\n", 3, "release.docs.timeout", "finite number"),
]


@pytest.mark.parametrize(("text", "line", "key", "says"), CASES, ids=[c[2] for c in CASES])
def test_a_list_with_an_item_twice_or_an_impossible_value_is_an_error(
    text: str, line: int, key: str, says: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source=SOURCE)
    message = str(info.value)
    assert message.startswith(f"{SOURCE}:{line}: {key}: "), message
    assert says in message
    assert "\n" not in message


def test_the_playbook_defaults_hold_each_item_once() -> None:
    parse_config("", source=SOURCE)  # every default list passes its own check


def test_the_associations_are_githubs() -> None:
    """The values `triage` accepts are the `author_association` enum of GitHub's OpenAPI."""
    from steward.policies.triage import AUTHOR_ASSOCIATIONS

    spec = json.loads(Path(SPEC_PATH).read_text(encoding="utf-8"))
    assert (
        frozenset(spec["components"]["schemas"]["author-association"]["enum"])
        == AUTHOR_ASSOCIATIONS
    )
