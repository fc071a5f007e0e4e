"""A repository's changelog template is bounded in size and time (issue #16, limits).

Reproduction: ``{{ ("x"*1000000)|replace("x","x"*1000000) }}`` in the changelog template a
repository names ended in MemoryError: the sandbox bounded attribute access and ``*``/``**``,
not what filters and methods build, the output, or the time. Each hostile template below was
first seen failing (a MemoryError, a RecursionError traceback, a render that never ended);
now each is one `ConfigError` line naming the template (exit 2), and ordinary templates,
built-in or not, render as before.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from steward import limits
from steward.errors import ConfigError
from steward.release.changelog.render import load_template, render, render_chunks
from tests.release.test_render_sandbox import data, repo_with_template, run

REPLACE_BOMB = '{{ ("x"*1000000)|replace("x","x"*1000000) }}\n'


def test_the_reported_replace_bomb_is_one_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = repo_with_template(tmp_path / "r", REPLACE_BOMB)
    code, out, err = run(["changelog", "--path", str(r.path)], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 or all(line.startswith("note:") for line in lines[:-1])
    assert "evil.md.j2" in lines[-1]
    assert "over the limit of 10,000,000 characters" in lines[-1]
    assert "Traceback" not in err


BIG = '"x" * 1000000'
AMPLIFIERS = {
    "replace-filter": REPLACE_BOMB,
    "replace-method": "{{ (" + BIG + ').replace("x", "x" * 100) }}',
    "replace-empty": '{{ ("x" * 100000).replace("", "y" * 1000) }}',
    "join-filter-separator": '{{ range(100000)|join("y" * 1000) }}',
    "join-filter-items": "{{ ([" + BIG + "] * 1000)|join }}",
    "join-filter-attribute": "{{ ([ns] * 200000)|join(attribute='s') }}",
    "join-method": '{{ ("y" * 1000).join(range(100000)|map("string")) }}',
    "format-filter-width": '{{ "%999999999s"|format("x") }}',
    "format-filter-star": '{{ "%*s"|format(999999999, "x") }}',
    "percent-repeats": '{{ ("%s" * 100000) % ((' + BIG + ",) * 100000) }}",
    "percent-dict": '{{ ("%(a)s" * 100000) % {"a": ' + BIG + "} }}",
    "str-format-width": '{{ "{:>999999999}".format(1) }}',
    "str-format-nested-width": '{{ "{:>{w}}".format(1, w=999999999) }}',
    "str-format-repeats": '{{ ("{0}" * 100000).format(' + BIG + ") }}",
    "format-map": '{{ ("{a}" * 100000).format_map({"a": ' + BIG + "}) }}",
    "center-filter": '{{ "x"|center(999999999) }}',
    "ljust": '{{ "x".ljust(999999999) }}',
    "rjust": '{{ "x".rjust(999999999) }}',
    "center-method": '{{ "x".center(999999999) }}',
    "zfill": '{{ "1".zfill(999999999) }}',
    "expandtabs": '{{ ("\\t" * 1000).expandtabs(100000) }}',
    "translate": "{{ (" + BIG + ').translate({120: "y" * 1000}) }}',
    "indent": '{{ ("x\\n" * 500000)|indent(1000) }}',
    "indent-string": '{{ ("x\\n" * 500000)|indent("y" * 1000) }}',
    "wordwrap": '{{ ("x " * 500000)|wordwrap(1, wrapstring="y" * 1000) }}',
    "urlize-target": '{{ ("www.x.com " * 100000)|urlize(target="y" * 1000) }}',
    "tojson-indent": "{{ (range(10000)|list)|tojson(indent=999999) }}",
    "batch": "{{ [1]|batch(999999999, 0)|list }}",
    "slice": "{{ [1]|slice(999999999)|list }}",
    "sum-of-lists": "{{ ([[1]] * 1000000)|sum(start=[]) }}",
    "lipsum": "{{ lipsum(1000000) }}",
    "lipsum-words": "{{ lipsum(1, max=100000000) }}",
    "to-bytes": '{{ (1).to_bytes(999999999, "big") }}',
    "concat-doubling": '{% set ns.s = "x" %}{% for i in range(40) %}'
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "plus-doubling": '{% set ns.s = "x" %}{% for i in range(40) %}'
    "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
    "list-doubling": "{% set l = [1] %}{% for i in range(40) %}"
    "{% set _ = l.extend(l) %}{% endfor %}{{ l|length }}",
    "list-append": "{% set l = [] %}{% for i in range(100000) %}{% for j in range(100) %}"
    "{% set _ = l.append(j) %}{% endfor %}{% endfor %}{{ l|length }}",
    "dict-update": "{% set d = {} %}{% for i in range(100000) %}{% for j in range(100) %}"
    "{% set _ = d.update({i * 100 + j: 1}) %}{% endfor %}{% endfor %}{{ d|length }}",
    "list-output": "{{ [" + BIG + "] * 1000000 }}",
    "list-string-filter": "{{ ([" + BIG + "] * 1000000)|string }}",
    "list-upper-filter": "{{ ([" + BIG + "] * 1000000)|upper }}",
    "list-concat": '{{ "a" ~ ([' + BIG + "] * 1000000) }}",
    "block-set": "{% set x %}{% for i in range(100000) %}{{ " + BIG + " }}"
    "{% endfor %}{% endset %}{{ x|length }}",
    "macro-output": "{% macro m() %}{% for i in range(100000) %}{{ " + BIG + " }}"
    "{% endfor %}{% endmacro %}{{ m()|length }}",
    "filter-block": "{% filter upper %}{% for i in range(100000) %}{{ " + BIG + " }}"
    "{% endfor %}{% endfilter %}",
    "distinct-strings-kept": "{% set l = [] %}{% for i in range(100000) %}"
    "{% set _ = l.append(" + BIG + " ~ i) %}{% endfor %}{{ l|length }}",
    "autoescape-concat": "{% autoescape true %}{% set ns.s = 'x' %}{% for i in range(40) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}{% endautoescape %}",
}


# Templates that reach their bound one item at a time (a loop that appends): the sandbox's
# checks make each iteration cost tens of microseconds, so against the real 1,000,000-item
# limit they take 30-45 s, and on a loaded machine they could reach the time limit first.
# The same check stops them at a lower limit.
ONE_AT_A_TIME = {"list-append": 10_000, "dict-update": 10_000}


@pytest.mark.parametrize("name", list(AMPLIFIERS))
def test_what_a_template_builds_is_bounded(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name in ONE_AT_A_TIME:
        monkeypatch.setattr(limits, "MAX_TEMPLATE_ITEMS", ONE_AT_A_TIME[name])
    (tmp_path / "t.j2").write_text(
        "{% set ns = namespace(s='" + "y" * 100 + "') %}" + AMPLIFIERS[name], encoding="utf-8"
    )
    with pytest.raises(ConfigError) as exc:
        render(data(), load_template("t.j2", tmp_path))
    message = str(exc.value)
    assert message.startswith(f"{tmp_path / 't.j2'}: ")
    assert "\n" not in message
    # The bound that stopped it is a size, not the time limit: refused before the work.
    assert "over the limit" in message, message
    if name in ONE_AT_A_TIME:
        assert f"{ONE_AT_A_TIME[name]:,} items" in message, message


def _counted(template: Any) -> int:
    total = 0
    for chunk in render_chunks(data(), template):
        total += len(chunk)
    return total


def test_the_output_stops_past_its_cap_as_it_is_produced(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text(
        '{% set big = "x" * 1000000 %}'
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ big }}{% endfor %}"
        "{% endfor %}"
    )
    with pytest.raises(ConfigError) as exc:
        _counted(load_template("t.j2", tmp_path))
    assert str(exc.value) == (
        f"{tmp_path / 't.j2'}: changelog template stopped: its output is over the limit of "
        f"{limits.MAX_TEMPLATE_OUTPUT:,} characters"
    )


def _changelog(entries: int) -> Any:
    """The fields the templates read, ``entries`` changes in one release."""
    changes = [SimpleNamespace(text=f"change number {i} (#{i})", scope="") for i in range(entries)]
    section = SimpleNamespace(title="Features", entries=changes)
    release = SimpleNamespace(
        tag="v1.0.0",
        version="1.0.0",
        date="2024-01-02",
        previous_tag=None,
        sections=[section],
        reverts=[],
        merges=[],
        notes=[],
    )
    return SimpleNamespace(
        repository_url=None, unreleased=None, releases=[release], versions=[release]
    )


def test_a_built_in_template_is_capped_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    template = load_template("github", tmp_path)
    assert "change number 99 (#99)" in render(_changelog(100), template)
    monkeypatch.setattr(limits, "MAX_TEMPLATE_OUTPUT", 1000)
    with pytest.raises(ConfigError) as exc:
        for _ in render_chunks(_changelog(100), template):
            pass
    assert str(exc.value) == (
        "github: changelog template stopped: its output is over the limit of 1,000 characters"
    )


@pytest.mark.parametrize(
    "template",
    [
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    ],
    ids=["macro", "macro-argument"],
)
def test_endless_recursion_is_one_config_error(tmp_path: Path, template: str) -> None:
    (tmp_path / "t.j2").write_text(template)
    with pytest.raises(ConfigError) as exc:
        render(data(), load_template("t.j2", tmp_path))
    assert "recursion" in str(exc.value)
    assert "\n" not in str(exc.value)


SLOW = {
    "bare-loops": "{% set r = range(100000)|list %}"
    "{% for a in r %}{% for b in r %}{% endfor %}{% endfor %}",
    "loop-over-loop-variable": "{% for a in range(100000) %}{% for b in range(100000) %}"
    "{% for c in range(100000) %}{% endfor %}{% endfor %}{% endfor %}",
    "exponential-macro": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}"
    "{% endmacro %}{{ f(60) }}",
    "sort-in-a-loop": "{% set r = range(100000)|list %}"
    "{% for a in range(100000) %}{% set _ = r|sort %}{% endfor %}",
}


@pytest.mark.parametrize("template", list(SLOW.values()), ids=list(SLOW))
def test_a_template_that_runs_past_its_deadline_stops(tmp_path: Path, template: str) -> None:
    """Run in a process of its own with a 2-second deadline: without one it never ends, and
    the generous bound (60 s) fails the test instead of hanging the suite."""
    r = repo_with_template(tmp_path / "r", template + "\n")
    code = (
        "import sys\n"
        "from steward import limits\n"
        "limits.TEMPLATE_SECONDS = 2.0\n"
        "from steward.cli.main import main\n"
        "main(sys.argv[1:])\n"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, "changelog", "--path", str(r.path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the template ran for 60 s without stopping")
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert "evil.md.j2" in line
    assert "changelog template stopped: still rendering after 2 s (the limit)" in line


def test_ordinary_templates_are_not_affected(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text(
        "{% for v in releases %}{{ v.tag|replace('v', 'V')|center(10)|trim }}"
        "{{ ' ' ~ pr_link(7) }}|{{ '%-4s|' % 'ab' }}{{ '{:>3}'.format(1) }}"
        "{{ ['a', 'b']|join(', ') }}|{{ 'x'.ljust(3, '.') }}|{{ [1, 2] + [3] }}"
        "{{ 'a\\nb'|indent(2) }}|{{ {'k': [1]}|tojson(indent=2)|length }}"
        "{% set l = [] %}{% set _ = l.append(1) %}{{ l }}"
        "{% set s %}{{ 'captured' }}{% endset %}|{{ s|upper }}\n{% endfor %}"
    )
    text = render(data(), load_template("t.j2", tmp_path))
    assert text == (
        "V1.0.0 [#7](https://github.com/octo/app/issues/7)|ab  |  1a, b|x..|[1, 2, 3]"
        "a\n  b|22[1]|CAPTURED\n"
    )


def test_a_large_changelog_still_renders_through_a_repository_template(tmp_path: Path) -> None:
    """Data in the size of a 200,000-commit history: what a template reads is not what it
    builds, so only its own work counts towards the limits."""
    changelog = _changelog(200_000)
    (tmp_path / "t.j2").write_text(
        "{% for v in releases %}## {{ v.tag }}\n{% for s in v.sections %}### {{ s.title }}\n"
        "{% for e in s.entries %}* {{ (e.scope ~ ': ') if e.scope }}{{ e.text|trim }}\n"
        "{% endfor %}{% endfor %}{% endfor %}"
    )
    text = render(changelog, load_template("t.j2", tmp_path))
    assert text.count("\n") == 200_002
