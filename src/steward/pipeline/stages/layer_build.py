"""Layer build: a Lambda layer zip per Python version and architecture from the sealed wheel
and its dependencies.

For each (python, architecture), pip installs the sealed wheel (restored from `dist.tar` after
its sha256 is checked) and its dependencies into `python/` for that Python's ABI (`--python-version
X.Y --implementation cp --abi cpXY`) and `manylinux2014_<machine>` (binary wheels only), from
the configured index. What pip leaves
that depends on the build machine goes: `python/bin/` (scripts with this machine's shebang),
`direct_url.json` (the local wheel's path), and no `.pyc` is written. The tree is zipped
deterministically (`layer_zip`) and sealed with its sha256.

The canary runs on the artifact itself: each zip is read back, checked against its hash and
unpacked into a fresh directory. Every distribution's wheel tags must suit the layer's
Python and platform and every ELF file must be built for the architecture; for the machine's
own architecture a clean interpreter of the layer's Python version (`-I -S`: no site-packages,
no user site, no PYTHON* variables) imports the configured modules from the unpacked tree
only and reads the package's version, which must be the release's. With several Pythons, one
that does not run here is recorded as "not run" with the reason (its tags and ELF files are
still checked); with one, a missing interpreter stops the release in preflight.
"""

from __future__ import annotations

import json
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from steward.config.pipeline import LayerConfig
from steward.errors import ReleaseError
from steward.pipeline import archive, layer_zip
from steward.pipeline.context import Context
from steward.pipeline.stages.build import DIST
from steward.pipeline.state import StageRecord

MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
ELF_MACHINES = {"x86_64": 62, "arm64": 183}  # e_machine: EM_X86_64, EM_AARCH64
MAX_ZIP = 50 * 1024 * 1024  # PublishLayerVersion's direct upload limit
MAX_UNZIPPED = 250 * 1024 * 1024  # a function and its layers, unzipped
_USERINFO = re.compile(r"(://[^/\s:@]+):[^/\s@]+@")

_IMPORT_CHECK = """
import importlib, importlib.metadata as md, json, os, sys
root, package, version, *names = sys.argv[1:]
root = os.path.realpath(root)
sys.path.insert(0, root)
def inside(path):
    path = os.path.realpath(path)
    return path == root or path.startswith(root + os.sep)
modules = {}
for name in names:
    module = importlib.import_module(name)
    where = getattr(module, "__file__", None) or ""
    if not inside(where):
        sys.exit(f"{name} was imported from {where or 'nowhere'}, not from the layer")
    modules[name] = os.path.relpath(os.path.realpath(where), root)
dist = md.distribution(package)
if not inside(str(dist.locate_file(""))):
    sys.exit(f"{package}'s metadata is not the layer's")
if dist.version != version:
    sys.exit(f"{package} in the layer is {dist.version}, not {version}")
native = sorted(
    os.path.relpath(os.path.realpath(m.__file__), root)
    for m in list(sys.modules.values())
    if getattr(m, "__file__", None) and m.__file__.endswith(".so") and inside(m.__file__)
)
print(json.dumps({"version": dist.version, "modules": modules, "native": native}))
"""


def zip_name(key: str) -> str:
    """The sealed zip of a layer by its key (`LayerConfig.key`: the architecture while one
    Python is built, else `python3.12-x86_64`)."""
    return f"layer-{key}.zip"


def _python(layer: LayerConfig, python: str | None) -> str:
    return python or layer.versions[0]


def pip_platform(layer: LayerConfig, arch: str) -> str:
    return f"{layer.platform}_{MACHINES[arch]}"


def _platforms(layer: LayerConfig, arch: str) -> list[str]:
    """Platform tags a Lambda of ``arch`` runs, newest first (what pip accepts for the
    configured platform)."""
    machine = MACHINES[arch]
    glibc = 17 if layer.platform == "manylinux2014" else int(layer.platform.rsplit("_", 1)[1])
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    out = []
    for minor in range(glibc, 4, -1):
        out.append(f"manylinux_2_{minor}_{machine}")
        if minor in legacy and (minor == 17 or machine == "x86_64"):
            out.append(f"{legacy[minor]}_{machine}")
    return out


def target_tags(layer: LayerConfig, arch: str, python: str | None = None) -> list[Tag]:
    """Every wheel tag the ``python`` layer accepts for ``arch``, most specific first."""
    major, minor = (int(x) for x in _python(layer, python).split("."))
    plats = _platforms(layer, arch)
    tags = list(cpython_tags((major, minor), platforms=plats))
    tags += compatible_tags((major, minor), interpreter=f"cp{major}{minor}", platforms=plats)
    return tags


def package_of(ctx: Context, wheels: Iterable[str]) -> str:
    """The distribution the layer is built from: configured, else the only one built."""
    layer = ctx.cfg.layer
    assert layer is not None
    if layer.package:
        return str(canonicalize_name(layer.package))
    projects = sorted({str(parse_wheel_filename(w)[0]) for w in wheels})
    if len(projects) != 1:
        raise ReleaseError(
            "stage layer-build: set release.layer.package: the build made wheels for "
            + (", ".join(projects) or "no project")
        )
    return projects[0]


def import_names(layer: LayerConfig, package: str) -> list[str]:
    return layer.imports or [package.replace("-", "_")]


def pick_wheel(
    layer: LayerConfig, arch: str, package: str, wheels: Iterable[str], python: str | None = None
) -> str:
    """The sealed wheel of ``package`` that suits ``python`` on ``arch``, the most specific."""
    rank = {tag: i for i, tag in enumerate(target_tags(layer, arch, python))}
    best: tuple[int, str] | None = None
    for name in wheels:
        try:
            project, _, _, tags = parse_wheel_filename(name)
        except InvalidWheelFilename:
            continue
        if project != package:
            continue
        score = min((rank[t] for t in tags if t in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, name)
    if best is None:
        raise ReleaseError(
            f"stage layer-build: no sealed wheel of {package} suits Python "
            f"{_python(layer, python)} on "
            f"{pip_platform(layer, arch)}"
        )
    return best[1]


def _index_args(ctx: Context) -> list[str]:
    layer = ctx.cfg.layer
    assert layer is not None
    args = ["--index-url", layer.index_url or ctx.cfg.index_simple_url]
    for url in layer.extra_index_urls:
        args += ["--extra-index-url", url]
    return args


def redact(text: str) -> str:
    """``text`` without the passwords of any URLs in it (user:password@host)."""
    return _USERINFO.sub(r"\1:***@", text)


def pip_command(
    ctx: Context, arch: str, requirement: str, target: Path, python: str | None = None
) -> list[str]:
    """pip for one layer: binary wheels of that Python's CPython ABI on the platform."""
    layer = ctx.cfg.layer
    assert layer is not None
    version = _python(layer, python)
    return [
        sys.executable, "-m", "pip", "install",
        "--isolated", "--no-input", "--disable-pip-version-check", "--no-cache-dir",
        "--no-compile", "--only-binary=:all:",
        "--platform", pip_platform(layer, arch),
        "--implementation", "cp",
        "--python-version", version,
        "--abi", "cp" + version.replace(".", ""),
        "--target", str(target),
        *_index_args(ctx),
        requirement,
    ]  # fmt: skip


def machine_arch() -> str | None:
    """This machine's Lambda architecture on Linux (the one the import canary can run)."""
    if sys.platform != "linux":
        return None
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )


def interpreter(layer: LayerConfig, python: str | None = None) -> str:
    """A python of version ``python`` that runs here, for the import canary (a pyenv shim
    on PATH for a version not selected is found but does not run: it is tried)."""
    version = _python(layer, python)
    setting = "interpreters" if len(layer.versions) > 1 else "interpreter"
    configured = layer.interpreters.get(version) or (
        layer.interpreter if len(layer.versions) == 1 else None
    )
    if configured:
        candidate: str | None = configured
    elif f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    else:
        candidate = shutil.which(f"python{version}")
    if candidate is None:
        raise ReleaseError(
            f"stage layer-build: the import canary needs Python {version}: put "
            f"python{version} on PATH or set release.layer.{setting}"
        )
    try:
        probe = subprocess.run(
            [candidate, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        found = probe.stdout.decode(errors="replace").strip()
    except OSError as exc:
        found, probe = f"an error ({exc})", None
    if probe is None or probe.returncode != 0 or found != version:
        said = found or (probe.stderr.decode(errors="replace").strip()[:200] if probe else "")
        raise ReleaseError(
            f"stage layer-build: the import canary needs Python {version}: {candidate} "
            f"answered {said or 'nothing'}; set release.layer.{setting}"
        )
    return candidate


def _clean_tree(root: Path) -> None:
    """Drop what depends on the build machine: scripts with its shebang, the local path of
    the installed wheel (direct_url.json, also struck from RECORD) and any bytecode."""
    shutil.rmtree(root / "bin", ignore_errors=True)
    for cache in sorted(root.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)
    for direct in root.glob("*.dist-info/direct_url.json"):
        record = direct.parent / "RECORD"
        direct.unlink()
        if record.is_file():
            lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [ln for ln in lines if not ln.split(",", 1)[0].endswith("/direct_url.json")]
            record.write_text("".join(kept), encoding="utf-8")


def distributions(root: Path) -> dict[str, dict[str, Any]]:
    """Installed distributions under ``root``: name -> version and wheel tags."""
    out: dict[str, dict[str, Any]] = {}
    for info in sorted(root.glob("*.dist-info")):
        meta = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        fields = dict(
            line.split(": ", 1) for line in meta.split("\n\n", 1)[0].splitlines() if ": " in line
        )
        wheel = info / "WHEEL"
        tags = []
        if wheel.is_file():
            for line in wheel.read_text(encoding="utf-8").splitlines():
                if line.startswith("Tag: "):
                    tags.append(line[5:].strip())
        name = str(canonicalize_name(fields.get("Name", info.name.split("-", 1)[0])))
        out[name] = {"version": fields.get("Version", "?"), "tags": tags}
    return out


def check_tags(
    layer: LayerConfig, arch: str, dists: dict[str, dict[str, Any]], python: str | None = None
) -> None:
    accepted = set(target_tags(layer, arch, python))
    for name, dist in dists.items():
        tags = {t for text in dist["tags"] for t in parse_tag(text)}
        if not tags & accepted:
            raise ReleaseError(
                f"stage layer-build: {name} {dist['version']} in the {arch} layer is built for "
                f"{', '.join(dist['tags']) or 'unknown tags'}, not Python "
                f"{_python(layer, python)} on "
                f"{pip_platform(layer, arch)}"
            )


def elf_files(root: Path, arch: str) -> list[str]:
    """Every ELF file under ``root`` (relative names); refused unless built for ``arch``."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        with path.open("rb") as fh:
            head = fh.read(20)
        if len(head) < 20 or head[:4] != b"\x7fELF":
            continue
        machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
        rel = path.relative_to(root).as_posix()
        if machine != ELF_MACHINES[arch]:
            raise ReleaseError(
                f"stage layer-build: {rel} in the {arch} layer is machine code for ELF machine "
                f"{machine}, not {arch} ({ELF_MACHINES[arch]})"
            )
        found.append(rel)
    return found


def import_check(
    ctx: Context, root: Path, package: str, version: str, python_version: str | None = None
) -> dict[str, Any]:
    layer = ctx.cfg.layer
    assert layer is not None
    python = interpreter(layer, python_version)
    cmd = [python, "-I", "-S", "-c", _IMPORT_CHECK, str(root / "python"), package, version]
    proc = subprocess.run(
        [*cmd, *import_names(layer, package)],
        cwd=root,
        env={"PATH": ctx.env.get("PATH", ""), "LC_ALL": "C.UTF-8"},
        capture_output=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr).decode(errors="replace").strip()
        raise ReleaseError(f"stage layer-build: the layer does not import: {out[-1500:]}")
    try:
        result: dict[str, Any] = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        out = proc.stdout.decode(errors="replace").strip()
        raise ReleaseError(f"stage layer-build: the import canary printed {out[-500:]!r}") from None
    result["python"] = python
    return result


class LayerBuildStage:
    name = "layer-build"
    title = "Build Lambda layers"

    def unconfigured(self, ctx: Context) -> str | None:
        return None if ctx.cfg.layer else "release.layer is not configured"

    def preflight(self, ctx: Context) -> list[str]:
        """One Python: its import canary must be able to run here. Several: at least one
        must (the others are recorded as not run, with the reason)."""
        layer = ctx.cfg.layer
        if layer is None or machine_arch() not in layer.architectures:
            return []
        problems = []
        for python in layer.versions:
            try:
                interpreter(layer, python)
            except ReleaseError as exc:
                problems.append(str(exc).removeprefix("stage layer-build: "))
        if len(layer.versions) == 1 or len(problems) == len(layer.versions):
            return problems
        return []

    def plan(self, ctx: Context) -> list[str]:
        layer = ctx.cfg.layer
        if layer is None:
            return []
        own = machine_arch()
        what = f"{layer.package}'s wheel" if layer.package else "the project's wheel"
        lines = [f"restore {DIST} after checking its sha256; take {what}"]
        for python, arch in layer.variants():
            key = layer.key(python, arch)
            cmd = pip_command(
                ctx, arch, "<sealed wheel>", ctx.work(f"layer-{key}") / "python", python
            )
            lines.append(f"{key}: {redact(shlex.join(cmd))}")
            check = (
                f"import {', '.join(layer.imports) or 'the package'} in a clean python{python}"
                if arch == own
                else "check every wheel tag and ELF machine"
            )
            lines.append(
                f"{key}: zip to {ctx.dir / zip_name(key)} (sorted, mtime {ctx.epoch}, fixed "
                f"modes) + sha256; unpack it fresh and {check}"
            )
        return lines

    def run(self, ctx: Context, rec: StageRecord) -> None:
        layer = ctx.cfg.layer
        if layer is None:
            raise ReleaseError("stage layer-build: release.layer is not configured")
        src, sha = ctx.sealed("build", DIST, self.name)
        dist = archive.restore(src, sha, ctx.work("layer-dist"), self.name)
        wheels = sorted(p.name for p in dist.glob("*.whl"))
        package = package_of(ctx, wheels)
        rec.details.update(
            {"package": package, "imports": import_names(layer, package), "layers": {}}
        )
        with ThreadPoolExecutor(max_workers=min(4, len(layer.variants()))) as pool:
            futures = {
                layer.key(python, arch): pool.submit(
                    self._one,
                    ctx,
                    python,
                    arch,
                    dist / pick_wheel(layer, arch, package, wheels, python),
                    package,
                )
                for python, arch in layer.variants()
            }
            results = {key: f.result() for key, f in futures.items()}
        tasks = []
        for key, (sha256, info) in results.items():
            rec.outputs[zip_name(key)] = sha256
            rec.details["layers"][key] = info
            start, end = info.pop("started"), info.pop("finished")
            tasks.append({"title": key, "started": start, "finished": end})
            ctx.echo(
                f"  {zip_name(key)} sha256 {sha256} ({info['size']} bytes, "
                f"{len(info['distributions'])} distributions): {info['canary']}"
            )
        rec.details["tasks"] = tasks

    def _one(
        self, ctx: Context, python: str, arch: str, wheel: Path, package: str
    ) -> tuple[str, dict[str, Any]]:
        layer = ctx.cfg.layer
        assert layer is not None
        started = time.time()
        key = layer.key(python, arch)
        tree = ctx.work(f"layer-{key}")
        if tree.exists():
            shutil.rmtree(tree)
        requirement = str(wheel) + (f"[{','.join(layer.extras)}]" if layer.extras else "")
        proc = subprocess.run(
            pip_command(ctx, arch, requirement, tree / "python", python),
            env=ctx.base_env(),
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            out = (proc.stdout + proc.stderr).decode(errors="replace").strip()
            raise ReleaseError(
                f"stage layer-build: pip install for {key} failed: {redact(out[-1500:])}"
            )
        _clean_tree(tree / "python")
        unzipped = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
        if unzipped > MAX_UNZIPPED:
            raise ReleaseError(
                f"stage layer-build: the {key} layer is {unzipped} bytes unzipped; Lambda "
                f"takes at most {MAX_UNZIPPED}"
            )
        sealed = ctx.dir / zip_name(key)
        sha256 = layer_zip.create(tree, sealed, ctx.epoch)
        size = sealed.stat().st_size
        if size > MAX_ZIP:
            raise ReleaseError(
                f"stage layer-build: {sealed.name} is {size} bytes; PublishLayerVersion takes at "
                f"most {MAX_ZIP} directly (uploads through S3 are not supported)"
            )
        shutil.rmtree(tree)
        info = self._canary(ctx, sealed, sha256, package, python=python, arch=arch)
        info.update(
            {
                "python": python,
                "arch": arch,
                "name": layer.layer_name(arch, python),
                "runtimes": layer.runtimes_of(python),
                "zip": sealed.name,
                "size": size,
                "wheel": wheel.name,
            }
        )
        info.update({"started": started, "finished": time.time()})
        return sha256, info

    def _canary(
        self, ctx: Context, path: Path, sha256: str, package: str, *, python: str, arch: str
    ) -> dict[str, Any]:
        """Unpack the sealed zip fresh and check it: tags, ELF machines, and the import."""
        layer = ctx.cfg.layer
        assert layer is not None
        key = layer.key(python, arch)
        root = ctx.work(f"layer-canary-{key}")
        if root.exists():
            shutil.rmtree(root)
        layer_zip.unpack(path, sha256, root, self.name)
        site = root / "python"
        dists = distributions(site)
        check_tags(layer, arch, dists, python)
        native = elf_files(site, arch)
        installed = dists.get(package, {}).get("version")
        if installed != ctx.version:
            raise ReleaseError(
                f"stage layer-build: the {key} layer holds {package} {installed}, not {ctx.version}"
            )
        info: dict[str, Any] = {
            "distributions": {n: d["version"] for n, d in dists.items()},
            "native": native,
        }
        checked = f"wheel tags and {len(native)} ELF files checked for {arch}"
        runs_here: str | None = None
        if arch == machine_arch():
            try:
                interpreter(layer, python)
            except ReleaseError as exc:
                if len(layer.versions) == 1:
                    raise
                runs_here = str(exc).removeprefix("stage layer-build: ")
        if arch == machine_arch() and runs_here is None:
            result = import_check(ctx, root, package, ctx.version, python)
            info["imported"] = result["modules"]
            info["interpreter"] = result["python"]
            info["canary"] = (
                f"imported {', '.join(result['modules'])} ({package} {result['version']}, "
                f"{len(result['native'])} native modules) with Python {python}"
            )
        elif runs_here is not None:
            info["canary"] = f"{checked}; import not run ({runs_here})"
        else:
            info["canary"] = checked
        shutil.rmtree(root)
        return info

    def verify(self, ctx: Context, rec: StageRecord) -> None:
        for name, sha in rec.outputs.items():
            layer_zip.read_sealed(ctx.dir / name, sha, self.name)
