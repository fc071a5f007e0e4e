"""Size: bands XS 0-9, S 10-29, M 30-99, L 100-499, XL 500-999, XXL 1000+ (playbook table)."""

from __future__ import annotations

import pytest

from steward.config.loader import parse_config
from steward.config.model import StewardConfig
from steward.domain.models import Snapshot
from steward.errors import ConfigError
from steward.policies import size
from tests.unit._payloads import added, context, files, pr_event, removed

SIZES = ("size/XS", "size/S", "size/M", "size/L", "size/XL", "size/XXL")


def run(lines: list[tuple[str, int, int]], labels: tuple[str, ...] = (), **kw: object):
    ev = pr_event("opened", labels=labels)
    return size.evaluate(context(ev, snapshot=Snapshot(files=files(*lines)), **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lines", "label"),
    [
        (0, "size/XS"),
        (9, "size/XS"),
        (10, "size/S"),
        (29, "size/S"),
        (30, "size/M"),
        (99, "size/M"),
        (100, "size/L"),
        (499, "size/L"),
        (500, "size/XL"),
        (999, "size/XL"),
        (1000, "size/XXL"),
        (250_000, "size/XXL"),
    ],
)
def test_band_edges(lines: int, label: str) -> None:
    # Split additions/deletions so both count: 9 lines = 5 added + 4 deleted.
    plan = run([("src/app.py", lines - lines // 2, lines // 2)])
    assert added(plan) == {label}
    assert removed(plan) == set()


def test_lines_sum_over_files_and_lock_files_are_ignored() -> None:
    plan = run(
        [
            ("src/a.py", 3, 2),
            ("src/b.py", 4, 1),
            ("poetry.lock", 5000, 4000),
            ("sub/dir/uv.lock", 700, 0),
            ("web/package-lock.json", 900, 900),
            ("proto/x_pb2.py", 800, 0),
        ]
    )
    assert added(plan) == {"size/S"}  # 3+2+4+1 = 10; lock and generated files count 0


def test_generated_files_alone_make_an_xs_pr() -> None:
    assert added(run([("poetry.lock", 5000, 4000)])) == {"size/XS"}


def test_exactly_one_size_label_remains() -> None:
    plan = run([("src/a.py", 40, 0)], labels=("size/XS", "size/XXL", "bug", "size/M"))
    assert added(plan) == set()  # size/M already there: costs nothing
    assert removed(plan) == {"size/XS", "size/XXL"}


def test_wrong_label_is_replaced() -> None:
    plan = run([("src/a.py", 600, 500)], labels=("size/S",))
    assert added(plan) == {"size/XXL"}
    assert removed(plan) == {"size/S"}


def test_unknown_files_plan_nothing_but_say_why() -> None:
    ev = pr_event("opened")
    plan = size.evaluate(context(ev, snapshot=Snapshot(files=None)))
    assert plan.actions == []
    assert len(plan.notes) == 1
    assert "\n" not in plan.notes[0]


def test_custom_bands_and_ignores() -> None:
    cfg = parse_config(
        "size:\n  prefix: 'lines:'\n  bands: {small: 0, big: 50}\n  ignore: ['docs/**']\n"
    )
    plan = run([("src/a.py", 49, 0), ("docs/x.md", 500, 0)], labels=("lines:big",), config=cfg)
    assert added(plan) == {"lines:small"}
    assert removed(plan) == {"lines:big"}


@pytest.mark.parametrize(
    "bands",
    ["{S: 10, M: 30}", "{}", "{A: 0, B: 0}"],
)
def test_bad_bands_are_config_errors(bands: str) -> None:
    with pytest.raises(ConfigError, match=r"size\.bands"):
        parse_config(f"size:\n  bands: {bands}\n")


def test_default_bands_are_the_playbooks() -> None:
    assert StewardConfig().size.all_labels() == list(SIZES)
