"""Render a `Changelog` with a Jinja2 template: a built-in one or a project's own file.

Templates receive plain data: ``unreleased`` (a version block or None), ``releases`` (newest
first), ``versions`` (both), ``repository_url``, and ``pr_link(n)`` (a Markdown link to the
PR when the repository URL is known, ``#n`` otherwise). Jinja2 runs with ``trim_blocks`` and
``lstrip_blocks`` (the newline after a block tag is dropped) and strict undefined names.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2

from steward.errors import ConfigError
from steward.release.changelog import Changelog

BUILTIN = {"github": "github.md.j2", "keepachangelog": "keepachangelog.md.j2"}


def _environment() -> jinja2.Environment:
    # Markdown, not HTML: escaping would corrupt commit subjects, so autoescape stays off.
    return jinja2.Environment(  # noqa: S701
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def load_template(name: str, root: Path) -> jinja2.Template:
    """A built-in template by name, or a file (relative to the repository root)."""
    env = _environment()
    if name in BUILTIN:
        text = (
            resources.files("steward.release.templates")
            .joinpath(BUILTIN[name])
            .read_text(encoding="utf-8")
        )
        source = name
    else:
        path = root / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"changelog template: {exc.strerror or exc}; built-ins are {', '.join(BUILTIN)}",
                path=str(path),
            ) from None
        source = str(path)
    try:
        return env.from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"template syntax: {exc.message}", path=source, line=exc.lineno) from None


def render(changelog: Changelog, template: jinja2.Template) -> str:
    url = changelog.repository_url

    def pr_link(number: int) -> str:
        return f"[#{number}]({url}/issues/{number})" if url else f"#{number}"

    try:
        return template.render(
            unreleased=changelog.unreleased,
            releases=changelog.releases,
            versions=changelog.versions,
            repository_url=url,
            pr_link=pr_link,
        )
    except jinja2.TemplateError as exc:
        raise ConfigError(f"changelog template failed: {exc}") from None
