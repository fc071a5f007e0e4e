"""call_once across real processes; the layer builder's hash-keyed skip."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from steward.e2e.layer import build_layer, source_digest
from steward.e2e.once import call_once, shared_root

WORKER = """
import json, os, sys, time
from pathlib import Path
from steward.e2e.once import call_once
root, log = Path(sys.argv[1]), Path(sys.argv[2])

def task():
    with open(log, "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    time.sleep(0.3)  # hold the lock while the other processes queue up
    return {"built_by": os.getpid()}

print(json.dumps(call_once("layer", task, root=root)))
"""


def test_call_once_runs_once_across_processes(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path / "shared"), str(log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    builders = log.read_text().split()
    assert len(builders) == 1  # the task ran once ...
    assert results == [{"built_by": int(builders[0])}] * 3  # ... and all three got its result


def test_call_once_result_is_cached_per_root(tmp_path: Path) -> None:
    calls: list[int] = []

    def task() -> list[int]:
        calls.append(1)
        return [1, 2]

    assert call_once("k", task, root=tmp_path / "a") == [1, 2]
    assert call_once("k", task, root=tmp_path / "a") == [1, 2]
    assert call_once("k", task, root=tmp_path / "b") == [1, 2]  # another session: runs again
    assert len(calls) == 2


def test_shared_root_is_the_basetemp_parent_only_under_xdist(tmp_path: Path) -> None:
    base = tmp_path / "pytest-7" / "popen-gw0"
    assert shared_root(base, under_xdist=True) == tmp_path / "pytest-7"
    assert shared_root(base, under_xdist=False) == base


def _sources(root: Path) -> Path:
    pkg = root / "mylib"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("VERSION = 1\n")
    (pkg / "sub" / "util.py").write_text("def f(): return 1\n")
    return pkg


def test_layer_is_built_in_layer_layout_then_skipped_until_sources_change(tmp_path: Path) -> None:
    pkg = _sources(tmp_path / "src")
    out = tmp_path / "cdk.out"
    built: list[Path] = []

    first = build_layer([pkg], out, build=built.append)
    assert first.rebuilt
    with zipfile.ZipFile(first.zip_path) as zf:
        assert sorted(zf.namelist()) == ["python/mylib/__init__.py", "python/mylib/sub/util.py"]
    assert (out / "layer_build.diff").read_text().strip() == first.digest
    stamp = first.zip_path.stat().st_mtime_ns

    second = build_layer([pkg], out, build=built.append)
    assert not second.rebuilt
    assert second.digest == first.digest
    assert first.zip_path.stat().st_mtime_ns == stamp  # not rewritten
    assert len(built) == 1  # the build step did not run again

    (pkg / "sub" / "util.py").write_text("def f(): return 2\n")
    third = build_layer([pkg], out, build=built.append)
    assert third.rebuilt
    assert third.digest != first.digest
    assert len(built) == 2


def test_digest_covers_paths_contents_and_key(tmp_path: Path) -> None:
    pkg = _sources(tmp_path / "src")
    base = source_digest([pkg])
    assert source_digest([pkg]) == base
    assert source_digest([pkg], key="py312") != base
    (pkg / "sub" / "util.py").rename(pkg / "sub" / "other.py")
    assert source_digest([pkg]) != base  # same bytes, another path
