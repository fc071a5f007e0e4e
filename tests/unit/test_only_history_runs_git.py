"""Only `steward.history` runs git (#17): every other module asks it by name for what it
needs (`history.git` for reads, `history.plumbing` for writes), so a git command line is
written in one package and a newcomer finds every one of them there.

Read with `ast` from the source, not by importing: a module that builds a git argv, imports
the raw runners (`git`, `git_bytes`) or a private name of `steward.history.git` fails here
with its file and line."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import steward

SRC = Path(steward.__file__).resolve().parent
HISTORY = SRC / "history"
GIT_MODULE = "steward.history.git"
RAW_RUNNERS = frozenset({"git", "git_bytes"})
# Calls that start a program from an argv or a command line.
SPAWNERS = frozenset(
    {
        "subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call",
        "subprocess.check_output", "subprocess.getoutput", "subprocess.getstatusoutput",
        "os.system", "os.popen", "os.execv", "os.execvp", "os.execvpe", "os.execve",
        "os.spawnv", "os.spawnvp", "os.posix_spawn", "os.posix_spawnp",
    }
)  # fmt: skip


def _forbidden(name: str) -> bool:
    return name in RAW_RUNNERS or name.startswith("_")


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _is_git_word(node: ast.expr) -> bool:
    """The string ``git`` (or a command line starting with it)."""
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value == "git" or node.value.startswith("git "))
    )


def _starts_with_git(node: ast.expr) -> bool:
    """A list or tuple literal whose first element is the string ``git``."""
    return isinstance(node, ast.List | ast.Tuple) and bool(node.elts) and _is_git_word(node.elts[0])


def violations(path: Path, base: Path = SRC.parent) -> list[str]:
    """Every place in ``path`` that runs git itself or reaches past history's public names,
    as ``file:line: what`` (the file relative to ``base``), in line order."""
    where = path.relative_to(base).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = sorted(_violations(tree), key=lambda hit: hit[0])
    return [f"{where}:{line}: {what}" for line, what in found]


def _violations(tree: ast.Module) -> Iterator[tuple[int, str]]:
    # Names bound to the module steward.history.git itself (`from steward.history import git`,
    # `import steward.history.git as g`), so `g.git(...)` is caught too.
    module_names = {GIT_MODULE}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "steward.history":
            module_names |= {a.asname or a.name for a in node.names if a.name == "git"}
        elif isinstance(node, ast.Import):
            module_names |= {a.asname for a in node.names if a.name == GIT_MODULE and a.asname}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom) and node.module == GIT_MODULE:
            for alias in node.names:
                if _forbidden(alias.name):
                    yield line, f"imports {alias.name} from {GIT_MODULE}"
        elif isinstance(node, ast.Attribute) and _forbidden(node.attr):
            if _dotted(node.value) in module_names:
                yield line, f"uses {GIT_MODULE}.{node.attr}"
        elif isinstance(node, ast.List | ast.Tuple) and _starts_with_git(node):
            yield line, "builds a git argv"
        elif (
            isinstance(node, ast.Call)
            and _dotted(node.func) in SPAWNERS
            and node.args
            and _is_git_word(node.args[0])
        ):
            yield line, "runs a git command line"


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if HISTORY not in p.parents)


def test_the_scan_sees_the_package() -> None:
    modules = _modules()
    assert len(modules) > 20
    assert SRC / "pipeline" / "stages" / "tag.py" in modules
    assert not any(HISTORY in p.parents for p in modules)


def test_the_scan_catches_each_way_to_run_git(tmp_path: Path) -> None:
    source = (
        "import subprocess\n"
        "from steward.history.git import git, _env, ref_sha\n"
        "from steward.history import git as g\n"
        "import steward.history.git as h\n"
        "g.git_bytes(root, 'show')\n"
        "h._spawn(['x'])\n"
        "argv = ('git', 'status')\n"
        "subprocess.run(['git', *args])\n"
        "subprocess.run('git status', shell=True)\n"
        "ok = ['mike', 'git']\n"
    )
    probe = tmp_path / "steward" / "probe.py"
    probe.parent.mkdir()
    probe.write_text(source)
    found = violations(probe, tmp_path)
    assert found == [
        "steward/probe.py:2: imports git from steward.history.git",
        "steward/probe.py:2: imports _env from steward.history.git",
        "steward/probe.py:5: uses steward.history.git.git_bytes",
        "steward/probe.py:6: uses steward.history.git._spawn",
        "steward/probe.py:7: builds a git argv",
        "steward/probe.py:8: builds a git argv",
        "steward/probe.py:9: runs a git command line",
    ]


def test_only_history_runs_git() -> None:
    found = [v for path in _modules() for v in violations(path)]
    assert not found, "git runs outside steward.history:\n" + "\n".join(found)
