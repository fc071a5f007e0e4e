"""The page's one Jinja2 environment: its templates folder, autoescaped, strict about
undefined names, with the filters the templates use (`ago`, ``utc``)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from steward.server.db import utcnow


@cache
def templates() -> Environment:
    folder = resources.files("steward.server.page") / "templates"
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ago"] = ago
    env.filters["utc"] = lambda when: when.strftime("%Y-%m-%d %H:%M UTC") if when else "-"
    return env


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """A duration a person reads at a glance: 45 s, 12 min, 3 h, 2 d."""
    if when is None:
        return "-"
    seconds = max(0.0, ((now or utcnow()) - when).total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


@cache
def stylesheet() -> str:
    """The page's stylesheet, read once."""
    return (resources.files("steward.server.page") / "templates" / "page.css").read_text()
