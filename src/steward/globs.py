"""Path globs with `**` semantics (as actions/labeler and boring-cyborg use them).

`**` matches any number of path segments, including none; `*` and `?` never cross `/`;
`[...]` is a character class; dotfiles match like any other file. A pattern without `/`
matches the basename anywhere (so `*.md` labels docs at any depth), like .gitignore.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    pat = pattern.strip().removeprefix("./")
    if "/" not in pat.rstrip("/"):
        pat = "**/" + pat
    if pat.endswith("/"):
        pat += "**"
    out: list[str] = []
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        if c == "*":
            if pat.startswith("**", i):
                at_start = i == 0 or pat[i - 1] == "/"
                at_end = i + 2 == n or pat[i + 2] == "/"
                if at_start and at_end:
                    if i + 2 == n:
                        out.append(".*")
                        i += 2
                    else:
                        out.append("(?:[^/]*/)*")
                        i += 3
                    continue
                out.append("[^/]*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pat.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pat[i + 1 : j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def match(pattern: str, path: str) -> bool:
    return compile_glob(pattern).fullmatch(path) is not None


def match_any(patterns: list[str] | tuple[str, ...], path: str) -> bool:
    return any(match(p, path) for p in patterns)
