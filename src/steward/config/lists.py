"""A list in the config names each item once.

A label, commit type, glob, path or login listed twice means nothing steward could do twice:
it is a typo (often of another item), so it is an error naming the item, with the file and
line (`steward.config.loader`), never folded away silently. Labels and logins compare as
GitHub compares them, case-blind; everything else as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated

from steward.config.checks import Check


def repeated(items: Iterable[str], *, fold: bool = False, what: str = "") -> str | None:
    """Why ``items`` names something twice (the first repeat), or ``None``."""
    seen: dict[str, str] = {}
    for item in items:
        key = item.casefold() if fold else item
        if key in seen:
            first = seen[key]
            same = f" (as {first!r})" if first != item else ""
            return f"{what}{item!r} is listed twice{same}"
        seen[key] = item
    return None


def _once(fold: bool) -> Callable[[list[str]], list[str]]:
    def check(items: list[str]) -> list[str]:
        problem = repeated(items, fold=fold)
        if problem is not None:
            raise ValueError(problem)
        return items

    return check


Once = Annotated[list[str], Check(_once(fold=False))]
"""A list whose items are all different, as written (types, globs, paths, URLs)."""

OnceCaseBlind = Annotated[list[str], Check(_once(fold=True))]
"""A list of GitHub names (labels, logins) all different as GitHub compares them."""
