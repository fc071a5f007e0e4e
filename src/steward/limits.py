"""The bounds on what a repository, a server or an input file can make steward read or build.

One module holds the numbers and the small helpers that enforce them, so that a new command
that reads through the GitHub client, parses JSON with `loads_json` or renders a template
with `steward.release.changelog.render` is bounded without knowing it:

* **HTTP bodies** are streamed and stop past a cap (`read_capped`): an answer of the GitHub
  API, of the App's token exchange, of a package index. A body that trickles in slower than
  `HTTP_BODY_SECONDS` in all stops too (each read has its own timeout, which a server that
  sends a byte every few seconds never trips).
* **Page walks** (`PageWalk`) stop on a page whose URL was read already (a ``Link`` header
  pointing back) and past `MAX_PAGES` pages.
* **JSON** from a server or an input file is refused nested deeper than `MAX_JSON_DEPTH`
  (`json_too_deep`: a scan of the bytes, before anything walks the decoded value;
  `loads_json` parses and checks in one call).
* **YAML** (`.github/steward.yml`) is refused nested deeper than `MAX_YAML_DEPTH`, with more
  than `MAX_YAML_ALIASES` aliases, an alias inside its own anchor, or expanding to more than
  `MAX_YAML_NODES` values (`steward.config.loader` applies them).
* **Templates** (a repository's changelog template) stop past `TEMPLATE_SECONDS` of
  rendering, `MAX_TEMPLATE_OUTPUT` characters of output, and when one operation would build
  a string over `MAX_TEMPLATE_STRING` characters or a list over `MAX_TEMPLATE_ITEMS` items,
  or all of them together more than `MAX_TEMPLATE_BUILT` (`steward.release.changelog.sandbox`).

Files (their size caps by kind, and what may be opened at all) are `steward.workspace`'s.

Every refusal is one line. Its exit code is the caller's: 1 when a server sent it (the
GitHub client raises `GitHubError`), 2 when it is the user's input or the repository's
config or template (`InputError`, `ConfigError`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MiB = 1 << 20

# -- HTTP -------------------------------------------------------------------------------------

# One answer of the GitHub API, decoded (a page of 100 issues is ~0.5 MB; 100 releases whose
# notes are at GitHub's 125,000-character limit ~13 MB).
MAX_API_BODY = 32 * MiB
# A package index's page for one project (PEP 503 HTML or PEP 691 JSON).
MAX_INDEX_PAGE = 64 * MiB
# A file downloaded from a package index to hash it (streamed: never held in memory).
MAX_DOWNLOAD = 2048 * MiB
# The whole of one body, however slowly it arrives.
HTTP_BODY_SECONDS = 600.0
# Pages of one paginated listing (100 items a page: 100,000 items).
MAX_PAGES = 1000

# -- JSON and YAML ----------------------------------------------------------------------------

# GitHub's deepest documented answer or payload is 11 levels deep.
MAX_JSON_DEPTH = 64
MAX_YAML_DEPTH = 64
MAX_YAML_ALIASES = 32
# Values visited once aliases are expanded: a "billion laughs" file stops here.
MAX_YAML_NODES = 100_000

# -- templates --------------------------------------------------------------------------------

TEMPLATE_SECONDS = 60.0
# A 200,000-commit changelog renders to ~25 MB.
MAX_TEMPLATE_OUTPUT = 100_000_000
MAX_TEMPLATE_STRING = 10_000_000  # characters of one string an operation builds
MAX_TEMPLATE_ITEMS = 1_000_000  # items of one list, tuple, dict or set an operation builds
MAX_TEMPLATE_BUILT = 200_000_000  # characters and items of everything built, in all
MAX_TEMPLATE_INT_BITS = 100_000  # an integer `**` or `*` builds (~30,000 digits)


Fail = Callable[[str], Exception]


def size_text(n: int) -> str:
    """``n`` bytes for a message: ``32 MiB``, ``25 MB``, else the bytes."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", MiB), ("MB", 1_000_000), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n:,} bytes"


class Deadline:
    """A point in time (monotonic clock) after which the work it bounds stops."""

    __slots__ = ("_at", "_clock", "seconds")

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._at = clock() + seconds

    def passed(self) -> bool:
        return self._clock() > self._at


# -- bodies -----------------------------------------------------------------------------------


def read_capped(
    chunks: Iterable[bytes],
    cap: int,
    what: str,
    fail: Fail,
    *,
    seconds: float | None = HTTP_BODY_SECONDS,
) -> bytes:
    """The bytes of ``chunks`` (a streamed body), joined; past ``cap`` bytes, or once
    ``seconds`` have gone by, ``fail("<what> is over ...; stopped reading it")`` is raised
    before the next chunk is read. The caller closes the stream."""
    deadline = Deadline(seconds) if seconds is not None else None
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > cap:
            raise fail(f"{what} is over the limit of {size_text(cap)}; stopped reading it")
        parts.append(chunk)
        if deadline is not None and deadline.passed():
            raise fail(f"{what} took over {deadline.seconds:.0f} s to arrive; stopped reading it")
    return b"".join(parts)


# -- page walks -------------------------------------------------------------------------------


def page_key(url: str) -> str:
    """What makes two page URLs the same page: scheme and host in lower case, the default
    port dropped, the query's parameters in order."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        host = f"{host}:{port}"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


class PageWalk:
    """The pages of one listing, as they are read: `visit` each page's URL before reading
    it. A URL read already (a ``rel="next"`` pointing back), or one page more than
    ``max_pages``, raises ``fail`` with one line naming ``where`` (the endpoint)."""

    def __init__(self, where: str, fail: Fail, max_pages: int = MAX_PAGES) -> None:
        self.where = where
        self.max_pages = max_pages
        self._fail = fail
        self._seen: dict[str, int] = {}

    @property
    def pages(self) -> int:
        return len(self._seen)

    def visit(self, url: str) -> None:
        key = page_key(url)
        before = self._seen.get(key)
        if before is not None:
            raise self._fail(
                f"{self.where}: the API's Link header loops: the page after page {self.pages} "
                f"is page {before} again; stopped"
            )
        if self.pages >= self.max_pages:
            raise self._fail(
                f"{self.where}: more than {self.max_pages} pages; stopped at the limit "
                f"({self.max_pages * 100:,} items at 100 a page)"
            )
        self._seen[key] = self.pages + 1


# -- JSON -------------------------------------------------------------------------------------

_OPEN_CLOSE = bytes.maketrans(b"[]{}", b"()()")
_ALL_BUT_BRACKETS_AND_QUOTES = bytes(range(256)).translate(None, b'[]{}"')


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON document ``raw`` (valid JSON: parse it first) nests arrays and
    objects deeper than ``limit``.

    A scan of the bytes with C-speed operations only (no Python loop over the document):
    escaped backslashes and quotes are dropped, then the text of strings (between the
    remaining quotes), then everything but the brackets; each pass then removes the
    innermost ``[]``/``{}`` pairs, so a document ``limit`` deep is empty after ``limit``
    passes. A 25 MB payload takes tens of milliseconds.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    if b"\\" in raw:  # in JSON a backslash only ever starts an escape inside a string
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    quoted = raw.translate(None, _ALL_BUT_BRACKETS_AND_QUOTES)
    nest = b"".join(quoted.split(b'"')[::2]).translate(_OPEN_CLOSE)
    too_deep = b"(" * (limit + 1)
    for _ in range(limit):
        if not nest:
            return False
        if too_deep in nest:
            return True
        nest = nest.replace(b"()", b"")
    return bool(nest)


def loads_json(raw: bytes | str, what: str, fail: Fail) -> Any:
    """The JSON value of ``raw``; not JSON, or nested deeper than `MAX_JSON_DEPTH` (the
    decoder's own recursion limit included), raises ``fail("<what> is not JSON")`` or
    ``fail("<what> is nested deeper than 64 levels")``."""
    too_deep = f"{what} is nested deeper than {MAX_JSON_DEPTH} levels"
    try:
        data = json.loads(raw)
    except RecursionError:
        raise fail(too_deep) from None
    except (ValueError, UnicodeDecodeError):
        raise fail(f"{what} is not JSON") from None
    if json_too_deep(raw.encode("utf-8") if isinstance(raw, str) else raw):
        raise fail(too_deep)
    return data
