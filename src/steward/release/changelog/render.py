"""Render a `Changelog` with a Jinja2 template: a built-in one or a project's own file.

Templates receive plain data: ``unreleased`` (a version block or None), ``releases`` (newest
first), ``versions`` (both), ``repository_url``, and ``pr_link(n)`` (a Markdown link to the
PR when the repository URL is known, ``#n`` otherwise), plus any ``extra`` globals the caller
passes. Jinja2 runs with ``trim_blocks`` and ``lstrip_blocks`` (the newline after a block tag
is dropped) and strict undefined names.

A template is code from the repository being processed (``changelog.template`` names a file
in it), and steward runs in CI with tokens in its environment, so templates run in Jinja2's
sandbox: ``{{ cycler.__init__.__globals__.os.popen(...) }}`` and other attribute walks to
Python internals are refused with a one-line ``ConfigError`` naming the template. The
sandbox (`steward.release.changelog.sandbox`) also bounds what a template builds and how
long it runs (`steward.limits`): ``{{ ("x"*1000000)|replace("x","x"*1000000) }}`` is refused
before it runs, a loop that never ends stops after `limits.TEMPLATE_SECONDS`. Every
template's output, a built-in's too, stops past `limits.MAX_TEMPLATE_OUTPUT` characters,
counted as it is produced.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError

from steward import limits
from steward.errors import ConfigError
from steward.release.changelog.build import Changelog, linker
from steward.release.changelog.sandbox import _BATCH as OUTPUT_BATCH
from steward.release.changelog.sandbox import Sandbox, TemplateLimit, bounded_output

BUILTIN = {"github": "github.md.j2", "keepachangelog": "keepachangelog.md.j2"}


def _environment(name: str, text: str, *, trusted: bool = False) -> jinja2.Environment:
    # Markdown, not HTML: escaping would corrupt commit subjects, so autoescape stays off.
    # The loader holds only this template: the name shows in errors, and nothing else
    # (no other file of the repository) can be included. A repository's template runs in
    # the sandbox; steward's own built-ins are trusted code and skip its per-attribute
    # checks (a third of a 200,000-commit changelog's time).
    env_class = jinja2.Environment if trusted else Sandbox
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
            resources.files("steward.release.changelog.templates")
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
    except RecursionError:  # the parser recurses once per level of nesting
        raise ConfigError(
            "template syntax: nested deeper than Python can follow", path=source
        ) from None


def _bounded_unjoined(chunks: Iterator[str]) -> Iterator[str]:
    """A built-in template's output bounded as `bounded_output` bounds it (the same batches,
    counted, stopped at the same point past `limits.MAX_TEMPLATE_OUTPUT`), each batch's
    chunks passed on as they are: a batch of a long changelog is megabytes, and joined it
    would be held twice (then a third time, encoded, when printed)."""
    cap = limits.MAX_TEMPLATE_OUTPUT
    total = 0
    while True:
        batch = list(islice(chunks, OUTPUT_BATCH))
        if not batch:
            return
        total += sum(map(len, batch))
        if total > cap:
            raise TemplateLimit(f"its output is over the limit of {cap:,} characters")
        yield from batch


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
    # its output is bounded; a repository's template, its time and what it builds too
    generated = template.generate(context)
    if isinstance(template.environment, Sandbox):
        chunks = bounded_output(generated, sandboxed=True)
    else:
        chunks = _bounded_unjoined(generated)
    try:
        yield from chunks
    except TemplateLimit as exc:
        raise ConfigError(f"changelog template stopped: {_one_line(exc)}", path=name) from None
    except SecurityError as exc:
        raise ConfigError(f"template refused by the sandbox: {_one_line(exc)}", path=name) from None
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        # the template's own mistakes ({{ 1/0 }}, a filter given the wrong type)
        raise ConfigError(f"changelog template failed: {_one_line(exc)}", path=name) from None
    except RecursionError:
        raise ConfigError(
            "changelog template failed: recursion deeper than Python allows "
            "(a macro that calls itself without end?)",
            path=name,
        ) from None
    except MemoryError:
        raise ConfigError("changelog template stopped: out of memory", path=name) from None
