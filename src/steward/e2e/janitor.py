"""Find E2E stacks leaked by earlier runs: the pure selection the `steward e2e janitor` uses.

A stack is ours when it carries the run-id tag; it is leaked when it is older than the grace
period (so a run still in progress elsewhere is left alone) and its name has the prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from steward.e2e.deployer import StackInfo
from steward.e2e.naming import RUN_TAG
from steward.errors import UsageError

_PART = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `2h`, `1d`, `1h30m` -> timedelta; anything else is a usage error."""
    cleaned = text.strip().lower()
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise UsageError(f"bad duration {text!r}: use e.g. 90s, 30m, 2h, 1d or 1h30m")
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(number)})
    return total


def leaked(
    stacks: Iterable[StackInfo], *, now: datetime, older_than: timedelta, prefix: str
) -> list[StackInfo]:
    """Stacks made by the plugin (run-id tag), named with `prefix`, created before now - grace."""
    cutoff = now - older_than
    return sorted(
        (
            s
            for s in stacks
            if RUN_TAG in s.tags
            and s.name.startswith(prefix)
            and s.created is not None
            and s.created <= cutoff
        ),
        key=lambda s: (s.created, s.name),
    )
