"""Changelog templates are code from the repository: they run in Jinja2's sandbox.

Before the sandbox, `{{ cycler.__init__.__globals__.os.popen('id').read() }}` in a template
named by `.github/steward.yml` ran `id` on the CI machine (with its tokens) and printed it.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from steward.errors import ConfigError
from steward.release.changelog.render import load_template, render
from tests.release.gitrepo import Repo, run


def repo_with_template(path: Path, template: str) -> Repo:
    r = Repo(path)
    (r.path / ".github").mkdir()
    (r.path / ".github" / "steward.yml").write_text("changelog:\n  template: evil.md.j2\n")
    (r.path / "evil.md.j2").write_text(template)
    r.commit("feat: something (#1)")
    r.tag("v1.0.0")
    r.commit("fix: another (#2)")
    return r


def test_the_classic_payload_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = repo_with_template(
        tmp_path / "r", "{{ cycler.__init__.__globals__.os.popen('id').read() }}\n"
    )
    code, out, err = run(["changelog", "--path", str(r.path)], capsys)
    assert code == 2
    assert out == ""
    assert "uid=" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 or all(line.startswith("note:") for line in lines[:-1])
    assert "evil.md.j2" in lines[-1]
    assert "unsafe" in lines[-1]


@pytest.mark.parametrize(
    "payload",
    [
        "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
        "{{ joiner.__init__.__globals__.os.popen('touch MARKER').read() }}",
        "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}",
        "{{ pr_link.__globals__['__builtins__']['__import__']('os').system('touch MARKER') }}",
        "{% for c in ''.__class__.__mro__[1].__subclasses__() %}"
        "{% if c.__name__ == 'Popen' %}{{ c(['touch', 'MARKER']) }}{% endif %}{% endfor %}",
        "{{ self._TemplateReference__context.cycler.__init__.__globals__.os"
        ".system('touch MARKER') }}",
    ],
)
def test_payloads_run_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    payload: str,
) -> None:
    r = repo_with_template(tmp_path / "r", payload + "\n")
    monkeypatch.chdir(r.path)  # where `touch MARKER` would write
    code, out, _ = run(["changelog", "--path", str(r.path)], capsys)
    assert code == 2
    assert out == ""
    assert not (r.path / "MARKER").exists()


def data(url: str | None = "https://github.com/octo/app") -> Any:
    """The fields `render` reads, without depending on how the changelog model is built."""
    release = SimpleNamespace(
        tag="v1.0.0", version="1.0.0", date="2024-01-02", previous_tag=None, sections=[], notes=[]
    )
    return SimpleNamespace(
        repository_url=url, unreleased=None, releases=[release], versions=[release]
    )


def test_ordinary_templates_still_work(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text(
        "{% for v in releases %}{{ v.tag|upper }} {{ pr_link(7) }}\n{% endfor %}"
        "{{ '%s-%d' % ('a', 2) }} {{ 'x' * 3 }} {{ 2 ** 8 }} {{ range(3)|list }}\n"
    )
    text = render(data(), load_template("t.j2", tmp_path))
    assert text == "V1.0.0 [#7](https://github.com/octo/app/issues/7)\na-2 xxx 256 [0, 1, 2]\n"


def test_extra_globals(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text("{{ linkify('see #7') }}|{{ pr_link(7) }}\n")

    def linkify(text: str) -> str:
        return text.replace("#7", "[#7](u)")

    out = render(data(None), load_template("t.j2", tmp_path), extra={"linkify": linkify})
    assert out == "see [#7](u)|#7\n"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 'x' * 10 ** 9 }}", "repetition over the limit"),
        ("{{ 7 ** 1000000 }}", "over the size limit"),
        ("{{ (10 ** 1000) ** 1000 }}", "over the size limit"),
        ("{{ 1 / 0 }}", "division by zero"),
        ("{{ nope }}", "'nope' is undefined"),
    ],
)
def test_runaway_or_broken_templates_are_config_errors(
    tmp_path: Path, template: str, message: str
) -> None:
    (tmp_path / "t.j2").write_text(template)
    with pytest.raises(ConfigError) as exc:
        render(data(), load_template("t.j2", tmp_path))
    assert message in str(exc.value)
    assert str(exc.value).startswith(f"{tmp_path / 't.j2'}: ")
    assert "\n" not in str(exc.value)


def test_builtin_templates_render_in_the_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = repo_with_template(tmp_path / "r", "unused\n")
    code, out, _ = run(["changelog", "--path", str(r.path), "--template", "github"], capsys)
    assert code == 0
    assert '<a name="v1.0.0"></a>\n## v1.0.0 - ' in out
    assert "* something" in out
    code, out, _ = run(["changelog", "--path", str(r.path), "--template", "keepachangelog"], capsys)
    assert code == 0
    assert "## [1.0.0] - " in out
    assert "- something" in out


def test_non_utf8_template_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_bytes("{{ 'é' }}".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_template("t.j2", tmp_path)
