"""Changelog at scale: steward against `git log` (the floor) and its peers, in one run.

Histories of 4,000, 50,000 and 200,000 conventional commits with a tag every 100 commits are
generated with `git fast-import` (seconds) and cached under bench/.cache/. Each tool then
writes a full changelog of the same repository: `git log` alone, `steward changelog` cold
(`--no-cache`: the whole history), with `--json`, and warm (one new commit after a full
run, through the cache of released sections), commitizen (`cz changelog`), git-cliff and
python-semantic-release. Medians of a few runs, ratios to the floor, and peak memory
(largest process of the tree, from the kernel's rusage). A peer that cannot run on a
generated repository is reported and skipped. Every tool runs as a user would run it: with
Python's bytecode cache on (PYTHONDONTWRITEBYTECODE is cleared for the measured commands).

`python -m bench changelog` runs all sizes; BENCH_SIZES=4000,50000 picks some,
BENCH_TOOLS=git,steward some tools (first word of the name), BENCH_TIMEOUT the seconds
one run may take (300).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
VENV_BIN = Path(sys.executable).parent
SIZES = (4_000, 50_000, 200_000)
TYPES = ("feat", "fix", "docs", "chore", "refactor", "perf", "ci", "test")
SCOPES = ("logger", "tracer", "metrics", "parser", "event_handler", None)
PER_TAG = 100
PEER_TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "300"))  # seconds per run of one tool
START = 1_500_000_000


def _stream(n: int):  # type: ignore[no-untyped-def]
    """fast-import commands for ``n`` commits, one file changed each, tag every 100."""
    yield b"blob\nmark :1\ndata 2\nx\n"
    for i in range(1, n + 1):
        t = TYPES[i % len(TYPES)]
        s = SCOPES[i % len(SCOPES)]
        head = f"{t}({s})" if s else t
        if i % 997 == 0:
            head += "!"
        msg = f"{head}: change number {i} of the generated history (#{i})\n"
        if i % 13 == 0:
            msg += f"\nA body line for commit {i}.\n\nCo-authored-by: Bo <bo@example.com>\n"
        data = msg.encode()
        when = START + i * 600
        out = (
            f"commit refs/heads/main\nmark :{i + 1}\n"
            f"author Dev {i % 17} <dev{i % 17}@example.com> {when} +0000\n"
            f"committer Dev {i % 17} <dev{i % 17}@example.com> {when} +0000\n"
            f"data {len(data)}\n"
        ).encode() + data
        if i > 1:
            out += f"from :{i}\n".encode()
        content = f"{i}\n".encode()
        out += b"M 100644 inline f.txt\ndata " + str(len(content)).encode() + b"\n" + content
        out += b"\n"
        if i % PER_TAG == 0:
            k = i // PER_TAG
            out += f"reset refs/tags/v{k // 100}.{k % 100}.0\nfrom :{i + 1}\n\n".encode()
        yield out


def generate(n: int) -> Path:
    repo = CACHE / f"history-{n}"
    if (repo / ".git" / "steward-bench-done").exists():
        _peer_configs(repo)
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        ["git", "-C", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    for chunk in _stream(n):
        proc.stdin.write(chunk)
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    subprocess.run(["git", "-C", str(repo), "reset", "-q", "--hard", "main"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit-graph", "write", "--reachable"], check=True)
    _peer_configs(repo)
    (repo / ".git" / "steward-bench-done").touch()
    print(f"  generated {n:,} commits in {time.perf_counter() - start:.1f}s", flush=True)
    return repo


def _peer_configs(repo: Path) -> None:
    """Untracked config files the peers need (not part of the measured history), and an
    origin remote (python-semantic-release refuses to run without one; nothing is pushed)."""
    remotes = subprocess.run(
        ["git", "-C", str(repo), "remote"], capture_output=True, text=True, check=True
    )
    if "origin" not in remotes.stdout.split():
        subprocess.run(
            [
                "git",
                "-C",
                str(repo),
                "remote",
                "add",
                "origin",
                "https://github.com/example/generated.git",
            ],
            check=True,
        )
    (repo / ".cz.toml").write_text(
        '[tool.commitizen]\nname = "cz_conventional_commits"\ntag_format = "v$version"\n'
        'version_scheme = "pep440"\nversion = "0.0.0"\nupdate_changelog_on_bump = false\n'
    )
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "generated"\nversion = "0.0.0"\n\n'
        '[tool.semantic_release]\ntag_format = "v{version}"\nversion_toml = []\n'
        '[tool.semantic_release.changelog]\nmode = "init"\n'
    )
    exe = shutil.which("git-cliff", path=str(VENV_BIN)) or shutil.which("git-cliff")
    if exe and not (repo / "cliff.toml").exists():
        subprocess.run([exe, "--init"], cwd=repo, capture_output=True, check=False)


def _time(
    cmd: list[str], cwd: Path, runs: int, before: Callable[[], None] | None = None
) -> tuple[float, int, str | None]:
    """Median wall time, peak RSS (KiB) of the largest process, and an error if it failed;
    ``before`` runs ahead of each measured run, untimed."""
    probe = (
        "import resource,subprocess,sys,time\n"
        "t=time.perf_counter()\n"
        "try:\n"
        f" p=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE,"
        f"timeout={PEER_TIMEOUT})\n"
        "except subprocess.TimeoutExpired:\n"
        " print('timeout');sys.exit()\n"
        "d=time.perf_counter()-t\n"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(p.returncode,d,r);sys.stderr.write(p.stderr.decode(errors='replace')[-300:])\n"
    )
    times: list[float] = []
    peak = 0
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(runs):
        if before is not None:
            before()
        out = subprocess.run(
            [sys.executable, "-c", probe, *cmd],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        if out.stdout.strip() == "timeout":
            return 0.0, 0, f"stopped after {PEER_TIMEOUT}s"
        try:
            rc_s, d_s, r_s = out.stdout.split()
        except ValueError:
            return 0.0, 0, out.stderr.strip()[-200:] or "no output"
        if rc_s != "0":
            return 0.0, 0, (out.stderr.strip().splitlines() or ["failed"])[-1][:200]
        times.append(float(d_s))
        peak = max(peak, int(r_s))
    return statistics.median(times), peak, None


def _tool(name: str) -> str | None:
    return shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)


def _new_commit(repo: Path) -> Callable[[], None]:
    """One more commit on the generated history, as the next push would bring."""
    counter = iter(range(1, 1_000_000))

    def commit() -> None:
        n = next(counter)
        subprocess.run(
            ["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", f"fix: warm {n}"],
            check=True,
            env={
                **os.environ,
                "GIT_AUTHOR_NAME": "B",
                "GIT_AUTHOR_EMAIL": "b@example.com",
                "GIT_COMMITTER_NAME": "B",
                "GIT_COMMITTER_EMAIL": "b@example.com",
            },
        )

    return commit


Tool = tuple[str, Callable[[Path], list[str]] | None, bool]  # name, command, warm


def tools() -> list[Tool]:
    steward = _tool("steward")
    cz = _tool("cz")
    cliff = _tool("git-cliff")
    psr = _tool("semantic-release")

    def st(*extra: str) -> Callable[[Path], list[str]] | None:
        if steward is None:
            return None
        return lambda r: [str(steward), "changelog", "--path", str(r), *extra]

    return [
        ("git log (floor)", lambda r: ["git", "-C", str(r), "log", "--tags", "HEAD"], False),
        ("steward changelog (cold)", st("--no-cache"), False),
        ("steward --json (cold)", st("--no-cache", "--json"), False),
        ("steward changelog (warm)", st(), True),
        ("steward --json (warm)", st("--json"), True),
        ("commitizen", (lambda r: [str(cz), "changelog", "--dry-run"]) if cz else None, False),
        ("git-cliff", (lambda r: [str(cliff), "-o", "-"]) if cliff else None, False),
        (
            "python-semantic-release",
            (lambda r: [str(psr), "--noop", "changelog"]) if psr else None,
            False,
        ),
    ]


def _warm_copy(repo: Path) -> Path:
    """A clone the warm runs may add commits to (the cached history stays as generated)."""
    work = repo.parent / f"{repo.name}-warm"
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(repo), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "fetch", "-q", "--tags"], check=True)
    return work


def main() -> None:
    sizes = SIZES
    if os.environ.get("BENCH_SIZES"):
        sizes = tuple(int(s) for s in os.environ["BENCH_SIZES"].split(","))
    for n in sizes:
        repo = generate(n)
        runs = 3 if n <= 4_000 else 2 if n <= 50_000 else 1
        print(f"\n{n:,} commits, {n // PER_TAG:,} tags (median of {runs} runs)")
        print(f"  {'tool':<26}{'seconds':>9}{'x floor':>9}{'peak MB':>9}")
        floor: float | None = None
        wanted = os.environ.get("BENCH_TOOLS")  # e.g. "git,steward": a subset, by first word
        warm_repo: Path | None = None
        for name, make, warm in tools():
            if wanted and name.split()[0] not in wanted.split(","):
                continue
            if make is None:
                print(f"  {name:<26}  not installed (make bench syncs the bench group)")
                continue
            where, before = repo, None
            if warm:
                warm_repo = warm_repo or _warm_copy(repo)
                where = warm_repo
                _time(make(where), where, 1)  # the full run that fills the cache
                before = _new_commit(where)
            seconds, peak_kib, error = _time(
                make(where), where, max(runs, 3 if warm else 1), before
            )
            if error is not None:
                print(f"  {name:<26}  failed: {error}")
                continue
            if floor is None:
                floor = seconds
            ratio = seconds / floor if floor else float("nan")
            print(f"  {name:<26}{seconds:>9.2f}{ratio:>9.2f}{peak_kib / 1024:>9.0f}", flush=True)
        if warm_repo is not None:
            shutil.rmtree(warm_repo, ignore_errors=True)


if __name__ == "__main__":
    main()
