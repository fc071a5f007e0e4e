"""Changelog at scale: steward against `git log` (the floor) and its peers, in one run.

Three kinds of history (bench/histories.py has the first two):

- powertools: the real Powertools history (tests/fixtures/powertools/, 3,868 commits, 146
  tags), no steward config: `git log`, commitizen and `steward changelog` cold, and how many
  `git` processes `steward changelog --no-cache`, `steward version current` and `steward
  version next` start (counted through a `git` wrapper put first on PATH);
- realistic: 200,000 commits whose messages follow the Powertools history (type and scope
  mix, bodies, `(#N)` references, read from the fixture when generated), with 99 tags, then
  the same commits with 2,000 tags: `git log`, commitizen, `steward changelog` cold, steward
  with commitizen's sections (the like-for-like row: commitizen's default changelog shows
  only breaking changes, feat, fix, refactor and perf) and `--json`;
- short: 4,000, 50,000 and 200,000 commits with one-line messages (a body every 13th) and a
  tag every 100 commits: every tool, steward also warm (one new commit after a full run,
  through the cache of released sections), git-cliff and python-semantic-release.

Histories are generated with `git fast-import` (seconds) and cached under bench/.cache/.
Each tool writes a full changelog of the same repository; steward runs cold (`--no-cache`:
the whole history) unless said warm. Medians of three runs (one when a run takes more than
30 s), ratios to the floor and to commitizen measured in the same run, and peak memory
(largest process of the tree, from the kernel's rusage). A peer that cannot run on a
history is reported and skipped, and one that took over a third of BENCH_TIMEOUT on a short
history is not run on the larger ones. Every tool runs as a user would run it: with
Python's bytecode cache on (PYTHONDONTWRITEBYTECODE is cleared for the measured commands).

`python -m bench changelog` runs it all (about 10 minutes on a quiet 2-core machine, most of
it the peers; a minute more to generate the histories the first time). Knobs:
BENCH_HISTORIES=powertools,realistic,short picks kinds of history; BENCH_SIZES=4000,50000
the commit counts of the synthetic ones (default 200,000 for realistic, all three for
short); BENCH_TOOLS=git,steward the tools (first word of the name, within each history's
set); BENCH_TIMEOUT the seconds one run may take (300); BENCH_STEWARD=HEAD (any revision)
measures that commit's src/ instead of the checkout's.
"""

from __future__ import annotations

import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import histories

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
VENV_BIN = Path(sys.executable).parent
HISTORIES = ("powertools", "realistic", "short")
SIZES = (4_000, 50_000, 200_000)
REALISTIC_SIZES = (200_000,)
TYPES = ("feat", "fix", "docs", "chore", "refactor", "perf", "ci", "test")
SCOPES = ("logger", "tracer", "metrics", "parser", "event_handler", None)
PER_TAG = 100
PEER_TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "300"))  # seconds per run of one tool
RUNS = 3  # a median of three runs...
LONG = 30.0  # seconds: ...but a run this long is not repeated
START = 1_500_000_000
# commitizen's default changelog (cz_conventional_commits: change_type_map and
# change_type_order): breaking changes, then feat, fix, refactor, perf; nothing left out.
CZ_SECTIONS = """\
changelog:
  sections:
    feat: Feat
    fix: Fix
    refactor: Refactor
    perf: Perf
  breaking_title: BREAKING CHANGE
  exclude: []
"""


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
    histories.cz_config(repo)
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
    env = _user_env()
    for _ in range(runs):
        if times and times[0] > LONG:
            break
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


STEWARD_ENV: dict[str, str] = {}  # PYTHONPATH of the steward source measured (BENCH_STEWARD)


def _user_env(**extra: str) -> dict[str, str]:
    """The environment a user runs a tool in: bytecode cache on."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **STEWARD_ENV, **extra}


def _steward_source() -> str:
    """Which steward is measured: the checkout's src/ as it is (uncommitted changes
    included), or with BENCH_STEWARD=REV that revision's src/, exported under bench/.cache/
    and put first on PYTHONPATH (other work in the checkout does not move the figures)."""

    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(HERE.parent), *args], capture_output=True, text=True, check=False
        )
        return out.stdout.strip()

    rev = os.environ.get("BENCH_STEWARD")
    if not rev:
        return f"steward's src/ as checked out at {git('rev-parse', '--short', 'HEAD')}"
    sha = git("rev-parse", "--short", f"{rev}^{{commit}}")
    if not sha:
        raise ValueError(f"BENCH_STEWARD: no commit {rev}")
    dest = CACHE / f"steward-{sha}"
    if not (dest / "src" / "steward").is_dir():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(HERE.parent), "archive", "--format=tar", sha, "src"],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    STEWARD_ENV["PYTHONPATH"] = str(dest / "src")
    return f"steward {sha} (BENCH_STEWARD={rev}), from {dest.relative_to(HERE.parent)}"


def git_processes(cmd: list[str], cwd: Path) -> int | str:
    """How many `git` processes ``cmd`` starts (through PATH), or why it could not run."""
    real = shutil.which("git")
    if real is None:
        return "no git on PATH"
    with tempfile.TemporaryDirectory() as tmp:
        calls = Path(tmp) / "calls"
        wrapper = Path(tmp) / "bin" / "git"
        wrapper.parent.mkdir()
        wrapper.write_text(
            f'#!/bin/sh\necho >> {shlex.quote(str(calls))}\nexec {shlex.quote(real)} "$@"\n'
        )
        wrapper.chmod(0o755)
        path = f"{wrapper.parent}{os.pathsep}{os.environ.get('PATH', '')}"
        try:
            proc = subprocess.run(
                cmd,
                cwd=cwd,
                env=_user_env(PATH=path),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                timeout=PEER_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"stopped after {PEER_TIMEOUT}s"
        if proc.returncode != 0:
            return (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]
        return len(calls.read_text().splitlines()) if calls.exists() else 0


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

FLOOR = "git log (floor)"
CZ = "commitizen"
STEWARD = "steward changelog (cold)"
CZ_LIKE = "steward (cz's sections)"
JSON = "steward --json (cold)"
WARM = ("steward changelog (warm)", "steward --json (warm)")
CLIFF = "git-cliff"
PSR = "python-semantic-release"


def tools() -> dict[str, Tool]:
    steward = _tool("steward")
    cz = _tool("cz")
    cliff = _tool("git-cliff")
    psr = _tool("semantic-release")
    cz_sections = CACHE / "steward-cz-sections.yml"
    CACHE.mkdir(parents=True, exist_ok=True)
    cz_sections.write_text(CZ_SECTIONS)

    def st(*extra: str) -> Callable[[Path], list[str]] | None:
        if steward is None:
            return None
        return lambda r: [str(steward), "changelog", "--path", str(r), *extra]

    listed: list[Tool] = [
        (FLOOR, lambda r: ["git", "-C", str(r), "log", "--tags", "HEAD"], False),
        (CZ, (lambda r: [str(cz), "changelog", "--dry-run"]) if cz else None, False),
        (STEWARD, st("--no-cache"), False),
        (CZ_LIKE, st("--no-cache", "--config", str(cz_sections)), False),
        (JSON, st("--no-cache", "--json"), False),
        (WARM[0], st(), True),
        (WARM[1], st("--json"), True),
        (CLIFF, (lambda r: [str(cliff), "-o", "-"]) if cliff else None, False),
        (PSR, (lambda r: [str(psr), "--noop", "changelog"]) if psr else None, False),
    ]
    return {t[0]: t for t in listed}


def _warm_copy(repo: Path) -> Path:
    """A clone the warm runs may add commits to (the cached history stays as generated)."""
    work = repo.parent / f"{repo.name}-warm"
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(repo), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "fetch", "-q", "--tags"], check=True)
    return work


def measure(
    title: str,
    repo: Path,
    runs: int,
    names: list[str],
    slow: dict[str, str] | None = None,
    note: str = "",
) -> dict[str, float]:
    """Time ``names`` on ``repo`` and print their rows; returns the seconds of each that ran.

    ``slow`` carries, from one size to the next, the tools too slow to run again."""
    load = os.getloadavg()[0]  # other work on the machine skews every figure: say it
    print(f"\n{title} (median of {runs} runs, 1 if over {LONG:.0f}s; load average {load:.1f})")
    if note:
        print(f"  {note}")
    print(f"  {'tool':<26}{'seconds':>9}{'x floor':>9}{'x cz':>9}{'peak MB':>9}")
    wanted = os.environ.get("BENCH_TOOLS")  # e.g. "git,steward": a subset, by first word
    every = tools()
    seconds: dict[str, float] = {}
    warm_repo: Path | None = None
    for name in names:
        _, make, warm = every[name]
        if wanted and name.split()[0] not in wanted.split(","):
            continue
        if make is None:
            print(f"  {name:<26}  not installed (make bench syncs the bench group)")
            continue
        if slow is not None and name in slow:
            print(f"  {name:<26}  skipped: {slow[name]}")
            continue
        where, before = repo, None
        if warm:
            warm_repo = warm_repo or _warm_copy(repo)
            where = warm_repo
            _time(make(where), where, 1)  # the full run that fills the cache
            before = _new_commit(where)
        took, peak_kib, error = _time(make(where), where, max(runs, 3 if warm else 1), before)
        if error is not None:
            print(f"  {name:<26}  failed: {error}")
            if slow is not None and error.startswith("stopped after"):
                slow[name] = f"{error} on a smaller history"
            continue
        seconds[name] = took
        if slow is not None and took > PEER_TIMEOUT / 3:
            slow[name] = f"took {took:.0f}s on {title}"
        ratios = [took / seconds[ref] if seconds.get(ref) else None for ref in (FLOOR, CZ)]
        cells = "".join(f"{r:>9.2f}" if r is not None else f"{'-':>9}" for r in ratios)
        print(f"  {name:<26}{took:>9.2f}{cells}{peak_kib / 1024:>9.0f}", flush=True)
    if warm_repo is not None:
        shutil.rmtree(warm_repo, ignore_errors=True)
    return seconds


def _count(repo: Path, what: str) -> int:
    out = subprocess.run(
        ["git", "-C", str(repo), *what.split()], capture_output=True, text=True, check=True
    )
    return len(out.stdout.split()) if what.startswith("tag") else int(out.stdout)


def bench_powertools() -> None:
    repo = histories.powertools()
    n, tags = _count(repo, "rev-list --count HEAD"), _count(repo, "tag")
    measure(
        f"Powertools, real: {n:,} commits, {tags} tags, no steward config",
        repo,
        RUNS,
        [FLOOR, CZ, STEWARD],
    )
    steward = _tool("steward")
    wanted = os.environ.get("BENCH_TOOLS")
    if steward is None or (wanted and "steward" not in wanted.split(",")):
        return
    counts = []
    for args in (["changelog", "--no-cache"], ["version", "current"], ["version", "next"]):
        calls = git_processes([steward, *args, "--path", str(repo)], repo)
        counts.append(f"steward {' '.join(args)}: {calls}")
    print(f"  git processes started: {'; '.join(counts)}", flush=True)


def bench_realistic(sizes: tuple[int, ...]) -> None:
    # tag counts, and the tools each is measured with
    sets = ((99, [FLOOR, CZ, STEWARD, CZ_LIKE, JSON]), (2_000, [FLOOR, CZ, STEWARD]))
    for n in sizes:
        for tags, names in sets:
            repo, prof = histories.realistic(n, min(tags, n))
            title = f"{n:,} commits, {min(tags, n):,} tags, Powertools' messages"
            measure(title, repo, RUNS, names, note=f"drawn from {prof.summary()}")


def bench_short(sizes: tuple[int, ...]) -> None:
    slow: dict[str, str] = {}
    names = [FLOOR, CZ, STEWARD, JSON, *WARM, CLIFF, PSR]
    for n in sizes:
        repo = generate(n)
        title = f"{n:,} commits, {n // PER_TAG:,} tags, short messages"
        measure(title, repo, RUNS, names, slow)


def main() -> None:
    wanted = tuple(os.environ.get("BENCH_HISTORIES", ",".join(HISTORIES)).split(","))
    unknown = [h for h in wanted if h not in HISTORIES]
    if unknown:
        raise ValueError(f"BENCH_HISTORIES: unknown {', '.join(unknown)}; have {HISTORIES}")
    sizes = None
    if os.environ.get("BENCH_SIZES"):
        sizes = tuple(int(s) for s in os.environ["BENCH_SIZES"].split(","))
    print(f"{_steward_source()}; {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}")
    if "powertools" in wanted:
        bench_powertools()
    if "realistic" in wanted:
        bench_realistic(sizes or REALISTIC_SIZES)
    if "short" in wanted:
        bench_short(sizes or SIZES)


if __name__ == "__main__":
    main()
