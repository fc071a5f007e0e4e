"""Render a `Changelog` with a Jinja2 template: a built-in one or a project's own file.

Templates receive plain data: ``unreleased`` (a version block or None), ``releases`` (newest
first), ``versions`` (both), ``repository_url``, and ``pr_link(n)`` (a Markdown link to the
PR when the repository URL is known, ``#n`` otherwise), plus any ``extra`` globals the caller
passes. Jinja2 runs with ``trim_blocks`` and ``lstrip_blocks`` (the newline after a block tag
is dropped) and strict undefined names.

A template is code from the repository being processed (``changelog.template`` names a file
in it), and steward runs in CI with tokens in its environment, so templates run in Jinja2's
sandbox: ``{{ cycler.__init__.__globals__.os.popen(...) }}`` and other attribute walks to
Python internals are refused with a one-line ``ConfigError`` naming the template.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from steward.errors import ConfigError
from steward.release.changelog import Changelog, linker

BUILTIN = {"github": "github.md.j2", "keepachangelog": "keepachangelog.md.j2"}


# Bounds on what a template may build with `**` and `*`: the sandbox stops code execution,
# these stop `{{ (10 ** 1000) ** 1000 }}` or `{{ "x" * 10 ** 12 }}` from hanging CI or
# exhausting its memory.
_MAX_INT_BITS = 100_000
_MAX_REPEAT = 1_000_000


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if (
                _is_int(left)
                and _is_int(right)
                and right > 0
                and abs(left) > 1
                and abs(left).bit_length() * right > _MAX_INT_BITS
            ):
                raise SecurityError("a power over the size limit")
            return left**right
        if (
            _is_int(left)
            and _is_int(right)
            and left.bit_length() + right.bit_length() > _MAX_INT_BITS
        ):
            raise SecurityError("a product over the size limit")
        for seq, count in ((left, right), (right, left)):
            if (
                isinstance(seq, str | bytes | list | tuple)
                and _is_int(count)
                and len(seq) * count > _MAX_REPEAT
            ):
                raise SecurityError(f"repetition over the limit of {_MAX_REPEAT} items")
        return left * right


def _environment(name: str, text: str, *, trusted: bool = False) -> jinja2.Environment:
    # Markdown, not HTML: escaping would corrupt commit subjects, so autoescape stays off.
    # The loader holds only this template: the name shows in errors, and nothing else
    # (no other file of the repository) can be included. A repository's template runs in
    # the sandbox; steward's own built-ins are trusted code and skip its per-attribute
    # checks (a third of a 200,000-commit changelog's time).
    env_class = jinja2.Environment if trusted else _Sandbox
    return env_class(
        loader=jinja2.DictLoader({name: text}),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def load_template(name: str, root: Path) -> jinja2.Template:
    """A built-in template by name, or a file (relative to the repository root)."""
    if name in BUILTIN:
        text = (
            resources.files("steward.release.templates")
            .joinpath(BUILTIN[name])
            .read_text(encoding="utf-8")
        )
        source = name
    else:
        # Checked by the caller (`steward.workspace`: inside the repository for a config
        # value); read here as every file is: a regular file only, at most Limit.TEMPLATE.
        from steward.workspace import Limit, read_text

        path = root / name
        text = read_text(
            path,
            Limit.TEMPLATE,
            "changelog template",
            error=ConfigError,
            missing=f"changelog template not found; built-ins are {', '.join(BUILTIN)}",
        )
        source = str(path)
    try:
        return _environment(source, text, trusted=name in BUILTIN).get_template(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"template syntax: {exc.message}", path=source, line=exc.lineno) from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def render(
    changelog: Changelog, template: jinja2.Template, *, extra: Mapping[str, Any] | None = None
) -> str:
    """The changelog text; ``extra`` adds template globals (and may replace the built-in
    ones, e.g. a project-aware ``pr_link``)."""
    return "".join(render_chunks(changelog, template, extra=extra))


def render_chunks(
    changelog: Changelog, template: jinja2.Template, *, extra: Mapping[str, Any] | None = None
) -> Iterator[str]:
    """`render` piece by piece, for printing a long changelog without holding it whole."""
    url = changelog.repository_url

    def pr_link(number: int) -> str:
        return f"[#{number}]({url}/issues/{number})" if url else f"#{number}"

    context: dict[str, Any] = {
        "unreleased": changelog.unreleased,
        "releases": changelog.releases,
        "versions": changelog.versions,
        "repository_url": url,
        "pr_link": pr_link,
        "linkify": linker(url),
    }
    context.update(extra or {})
    name = template.name or "<template>"
    try:
        yield from template.generate(context)
    except SecurityError as exc:
        raise ConfigError(f"template refused by the sandbox: {_one_line(exc)}", path=name) from None
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        # the template's own mistakes ({{ 1/0 }}, a filter given the wrong type)
        raise ConfigError(f"changelog template failed: {_one_line(exc)}", path=name) from None
