"""Deterministic layer zips, the layer-build checks on their own, and two checkouts of the
same release building byte-identical layers."""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from pathlib import Path

import pytest

from steward.config.pipeline import LayerConfig
from steward.errors import ReleaseError, TamperedArtifactError
from steward.pipeline import layer_zip
from steward.pipeline.stages.layer_build import (
    check_tags,
    elf_files,
    pick_wheel,
    redact,
    target_tags,
)
from tests.pipeline.conftest import Index
from tests.pipeline.test_layer import layer_sample, release
from tests.pipeline.test_release_run import state

EPOCH = 1_700_000_000


def tree(base: Path, order: list[str], mtime: int, umask: int) -> Path:
    """The same files, created in ``order`` with other mtimes and permissions."""
    files = {
        "python/pkg/__init__.py": b"x = 1\n",
        "python/pkg/tool.sh": b"#!/bin/sh\n",
        "python/pkg/data/empty.txt": b"",
        "python/pkg-1.0.dist-info/RECORD": b"pkg/__init__.py,,\n",
    }
    for name in order:
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
        mode = 0o777 if name.endswith(".sh") else 0o666
        path.chmod(mode & ~umask)
        os.utime(path, (mtime, mtime))
    return base


def test_the_same_tree_always_zips_to_the_same_bytes(tmp_path: Path) -> None:
    names = [
        "python/pkg/__init__.py",
        "python/pkg/tool.sh",
        "python/pkg/data/empty.txt",
        "python/pkg-1.0.dist-info/RECORD",
    ]
    one = tree(tmp_path / "one", names, 1_000_000_000, 0o022)
    two = tree(tmp_path / "two", list(reversed(names)), 1_800_000_000, 0o077)
    sha1 = layer_zip.create(one, tmp_path / "one.zip", EPOCH)
    sha2 = layer_zip.create(two, tmp_path / "two.zip", EPOCH)
    assert sha1 == sha2
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as zf:
        infos = {i.filename: i for i in zf.infolist()}
    assert list(infos) == sorted(infos)
    assert "python/pkg/data/" in infos
    assert (infos["python/pkg/tool.sh"].external_attr >> 16) == 0o100755
    assert (infos["python/pkg/__init__.py"].external_attr >> 16) == 0o100644
    assert (infos["python/pkg/data/"].external_attr >> 16) == 0o040755
    assert {i.date_time for i in infos.values()} == {(2023, 11, 14, 22, 13, 20)}
    # before 1980 a zip cannot say: the earliest date it can
    layer_zip.create(one, tmp_path / "old.zip", 0)
    with zipfile.ZipFile(tmp_path / "old.zip") as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    # another epoch is another zip
    assert layer_zip.create(one, tmp_path / "later.zip", EPOCH + 2) != sha1


def test_links_are_refused_and_unpack_checks_hash_and_names(tmp_path: Path) -> None:
    src = tree(tmp_path / "t", ["python/pkg/__init__.py"], EPOCH, 0o022)
    (src / "python" / "link").symlink_to("/etc/passwd")
    with pytest.raises(ReleaseError, match="files and directories only"):
        layer_zip.create(src, tmp_path / "bad.zip", EPOCH)
    (src / "python" / "link").unlink()
    sha = layer_zip.create(src, tmp_path / "ok.zip", EPOCH)
    out = layer_zip.unpack(tmp_path / "ok.zip", sha, tmp_path / "out", "layer-build")
    assert (out / "python" / "pkg" / "__init__.py").read_bytes() == b"x = 1\n"
    with pytest.raises(TamperedArtifactError, match=f"recorded sha256 {'0' * 64}"):
        layer_zip.unpack(tmp_path / "ok.zip", "0" * 64, tmp_path / "out2", "layer-build")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("python/../../escape.txt", b"x")
    digest = hashlib.sha256(evil.read_bytes()).hexdigest()
    with pytest.raises(ReleaseError, match="unsafe member"):
        layer_zip.unpack(evil, digest, tmp_path / "out3", "layer-build")
    assert not (tmp_path / "escape.txt").exists()


def layer(**kw: object) -> LayerConfig:
    return LayerConfig.model_validate({"name": "l-{arch}", "python": "3.11", **kw})


def test_wheels_are_chosen_and_checked_by_tag() -> None:
    cfg = layer()
    wheels = [
        "pkg-1.0-py3-none-any.whl",
        "pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "pkg-1.0-cp311-cp311-manylinux_2_28_aarch64.whl",
        "other-1.0-cp311-cp311-manylinux2014_aarch64.whl",
    ]
    assert pick_wheel(cfg, "x86_64", "pkg", wheels) == wheels[1]
    # manylinux_2_28 needs a newer glibc than manylinux2014 promises: the pure wheel
    assert pick_wheel(cfg, "arm64", "pkg", wheels) == wheels[0]
    newer = layer(platform="manylinux_2_28")
    assert pick_wheel(newer, "arm64", "pkg", wheels) == wheels[2]
    with pytest.raises(ReleaseError, match=re.escape("no sealed wheel of pkg suits Python 3.11")):
        pick_wheel(cfg, "arm64", "pkg", wheels[1:3])
    accepted = {str(t) for t in target_tags(cfg, "arm64")}
    assert "cp311-abi3-manylinux2014_aarch64" in accepted
    assert "cp311-cp311-manylinux1_x86_64" not in accepted
    assert "cp312-cp312-manylinux2014_aarch64" not in accepted
    assert "cp310-abi3-manylinux_2_5_aarch64" in accepted
    check_tags(cfg, "arm64", {"a": {"version": "1", "tags": ["py2.py3-none-any"]}})
    with pytest.raises(ReleaseError, match="a 1 in the arm64 layer is built for cp311-cp311-"):
        check_tags(cfg, "arm64", {"a": {"version": "1", "tags": ["cp311-cp311-linux_aarch64"]}})
    with pytest.raises(ReleaseError, match=re.escape("not Python 3.11")):
        check_tags(
            cfg, "x86_64", {"a": {"version": "1", "tags": ["cp312-cp312-manylinux1_x86_64"]}}
        )


def test_index_passwords_are_never_printed() -> None:
    cmd = "pip install --index-url https://ci:s3cret@pypi.example/simple/ x"
    assert redact(cmd) == "pip install --index-url https://ci:***@pypi.example/simple/ x"
    assert redact("https://pypi.org/simple/") == "https://pypi.org/simple/"


def test_elf_files_must_be_built_for_the_architecture(tmp_path: Path) -> None:
    def elf(machine: int) -> bytes:
        head = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
        return (head + (3).to_bytes(2, "little") + machine.to_bytes(2, "little")).ljust(64, b"\0")

    (tmp_path / "a.so").write_bytes(elf(183))
    (tmp_path / "README").write_bytes(b"\x7fEL")  # too short to be ELF
    assert elf_files(tmp_path, "arm64") == ["a.so"]
    with pytest.raises(
        ReleaseError,
        match=re.escape("a.so in the x86_64 layer is machine code for ELF machine 183"),
    ):
        elf_files(tmp_path, "x86_64")


def test_config_refuses_what_cannot_be_published() -> None:
    with pytest.raises(ValueError, match="name needs"):
        LayerConfig.model_validate({"name": "one-layer"})
    with pytest.raises(ValueError, match="letters, digits"):
        LayerConfig.model_validate({"name": "a.b-{arch}"})
    with pytest.raises(ValueError, match=re.escape("compatible_runtimes must include python3.12")):
        LayerConfig.model_validate({"name": "l-{arch}", "compatible_runtimes": ["python3.11"]})
    with pytest.raises(ValueError, match="never the keys themselves"):
        LayerConfig.model_validate(
            {"name": "l-{arch}", "accounts": {"beta": {"regions": ["us-east-1"]}}}
        )
    with pytest.raises(ValueError, match="not AWS region names"):
        LayerConfig.model_validate(
            {"name": "l-{arch}", "accounts": {"beta": {"profile": "p", "regions": ["mars-1"]}}}
        )
    for name in ("l-{arch}-{0}", "l-{arch", "l-{arch!r}", "l-{region}-{arch}"):
        with pytest.raises(ValueError, match=r"layer\.name"):
            LayerConfig.model_validate({"name": name})
    with pytest.raises(ValueError, match=r"layer\.description"):
        LayerConfig.model_validate({"name": "l-{arch}", "description": "{package} {sha}"})
    with pytest.raises(ValueError, match=r"canary\.function_name"):
        LayerConfig.model_validate({"name": "l-{arch}", "canary": {"function_name": "{name}"}})
    from steward.config.pipeline import PipelineConfig

    with pytest.raises(ValueError, match="layer-build must come before layer-beta"):
        PipelineConfig.model_validate({"stages": ["seal", "build", "layer-beta", "layer-build"]})


def test_two_checkouts_of_a_release_build_byte_identical_layers(
    tmp_path: Path, pypi: Index, speedups: list[Path]
) -> None:
    """Another directory, another run: pip's paths and times leave no trace in the zips."""
    hashes = []
    for name in ("first", "second-checkout-elsewhere"):
        base = tmp_path / name
        base.mkdir()
        sample = layer_sample(base, pypi, speedups, stages="[seal, build, layer-build]")
        release(sample, sample.env())
        rec = next(s for s in state(sample)["stages"] if s["name"] == "layer-build")
        hashes.append(rec["outputs"])
    assert hashes[0] == hashes[1]
    assert sorted(hashes[0]) == ["layer-arm64.zip", "layer-x86_64.zip"]
