"""Build a Lambda layer zip once, and not at all when its sources did not change.

The playbook keeps `cdk.out/layer_build.diff`, a hash of the layer's sources; same here:
`<out>/<name>_build.diff` holds the sha256 of every source file's path and bytes (plus an
optional key, e.g. the Python version or a requirements pin), and the zip is rebuilt only
when that hash moves. A file lock keeps parallel sessions and workers from building twice.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from steward.e2e.template import zip_dir


@dataclass(frozen=True)
class LayerBuild:
    zip_path: Path
    digest: str
    rebuilt: bool


def _files(source: Path) -> Iterable[tuple[str, Path]]:
    if source.is_file():
        yield source.name, source
        return
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        if "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield f"{source.name}/{path.relative_to(source).as_posix()}", path


def source_digest(sources: Sequence[Path], key: str = "") -> str:
    """sha256 over (relative path, bytes) of every file, in a stable order."""
    h = hashlib.sha256(key.encode())
    for source in sources:
        if not source.exists():
            raise FileNotFoundError(f"layer source {source} does not exist")
        for rel, path in _files(source):
            h.update(rel.encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def build_layer(
    sources: Sequence[Path],
    out_dir: Path,
    *,
    name: str = "layer",
    key: str = "",
    build: Callable[[Path], None] | None = None,
) -> LayerBuild:
    """Copy `sources` under `python/` (the layer layout), run `build(dir)` if given (e.g. pip
    install), zip the result. Skips all of it when the sources hash to the recorded digest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{name}.zip"
    diff = out_dir / f"{name}_build.diff"
    with FileLock(f"{out_dir / name}.lock"):
        digest = source_digest(sources, key)
        if zip_path.is_file() and diff.is_file() and diff.read_text().strip() == digest:
            return LayerBuild(zip_path, digest, rebuilt=False)
        work = out_dir / f"{name}_build"
        shutil.rmtree(work, ignore_errors=True)
        target = work / "python"
        target.mkdir(parents=True)
        for source in sources:
            if source.is_dir():
                shutil.copytree(
                    source, target / source.name, ignore=shutil.ignore_patterns("__pycache__")
                )
            else:
                shutil.copy2(source, target / source.name)
        if build is not None:
            build(work)
        tmp = zip_path.with_suffix(".zip.tmp")
        tmp.write_bytes(zip_dir(work))
        tmp.replace(zip_path)
        diff.write_text(digest + "\n")
        return LayerBuild(zip_path, digest, rebuilt=True)
