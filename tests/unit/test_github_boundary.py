"""The layer rule "only github speaks HTTP to GitHub" (#17), read from the source.

Every module of steward outside `steward.github` is parsed (not imported) and must not
import httpx (`steward.pipeline.index` and `steward.pipeline.trusted_publishing` talk to the
package index, and to the Actions runner's OIDC endpoint, not to GitHub's API, and may), nor hold a
string or f-string that starts like a GitHub REST path (``/repos/...``, ``/app/...``,
``/installation/...``, ``/search/...``, ...): those live in the adapter's typed methods.
A failure names each offending ``file:line``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import steward

ROOT = Path(steward.__file__).resolve().parent
ADAPTER = ROOT / "github"
HTTPX_ALLOWED = {  # the package index (and the runner's OIDC token endpoint), not GitHub
    ROOT / "pipeline" / "index.py",
    ROOT / "pipeline" / "trusted_publishing.py",
}

# A string that starts with one of these is a GitHub REST path ...
PATH_PREFIXES = (
    "/repos/",
    "/app/",
    "/app-manifests/",
    "/installation/",
    "/search/",
    "/orgs/",
    "/users/",
)
# ... and so is one of these, whole (the endpoints with nothing after them).
WHOLE_PATHS = frozenset({"/app", "/user", "/installation"})


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if ADAPTER not in p.parents)


def _is_path(text: str) -> bool:
    return text.startswith(PATH_PREFIXES) or text.split("?", maxsplit=1)[0] in WHOLE_PATHS


def _leading_text(node: ast.JoinedStr) -> str:
    """The literal text an f-string starts with (empty when it starts with a field)."""
    first = node.values[0] if node.values else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return ""


def _imports_httpx(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name == "httpx" or a.name.startswith("httpx.") for a in node.names)
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        return node.level == 0 and (module == "httpx" or module.startswith("httpx."))
    return False


def offences(source: str, where: str, *, httpx_allowed: bool = False) -> list[str]:
    """``where:line: what`` for each httpx import (unless allowed) and each string or
    f-string that starts like a GitHub REST path in ``source``, in line order."""
    tree = ast.parse(source, filename=where)
    # the literal pieces of an f-string are judged with the f-string, not on their own
    pieces = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not httpx_allowed and _imports_httpx(node):
            found.append((getattr(node, "lineno", 0), "imports httpx"))
        elif isinstance(node, ast.JoinedStr) and _is_path(_leading_text(node)):
            found.append((node.lineno, f"GitHub REST path f{_leading_text(node)[:60]!r}"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in pieces
            and _is_path(node.value)
        ):
            found.append((node.lineno, f"GitHub REST path {node.value[:60]!r}"))
    return [f"{where}:{line}: {what}" for line, what in sorted(found)]


def test_the_scan_sees_the_source_tree() -> None:
    modules = _modules()
    assert ROOT / "server" / "app.py" in modules
    assert ROOT / "github" / "client.py" not in modules
    assert len(modules) > 80


def test_the_scan_catches_what_it_looks_for() -> None:
    source = (
        "import httpx\n"
        "from httpx import Client\n"
        "A = '/repos/{owner}/{repo}/labels'\n"
        "B = f'/app/installations/{1}/access_tokens'\n"
        "C = '/app'\n"
        "D = 'POST /app/hook'  # a message naming a path is not one\n"
        "E = f'{1}/repos/'\n"
        "F = '/apps/x'\n"
        "import httpxtra\n"
    )
    lines = [o.split(":")[1] for o in offences(source, "probe.py")]
    assert lines == ["1", "2", "3", "4", "5"]
    assert [o.split(":")[1] for o in offences(source, "p", httpx_allowed=True)] == ["3", "4", "5"]


def test_only_the_adapter_speaks_http_to_github() -> None:
    found = [
        o
        for module in _modules()
        for o in offences(
            module.read_text(encoding="utf-8"),
            str(module.relative_to(ROOT.parent)),
            httpx_allowed=module in HTTPX_ALLOWED,
        )
    ]
    assert found == [], "GitHub HTTP outside steward.github:\n" + "\n".join(found)
