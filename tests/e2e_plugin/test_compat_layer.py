"""LocalLambdaPowertoolsLayer: one real, offline pip run on a wheel built here."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from steward.e2e.compat.lambda_layer import powertools_layer
from steward.e2e.compat.lambda_layer.powertools_layer import LocalLambdaPowertoolsLayer
from steward.errors import StewardError


def _record(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(out: Path, name: str = "tinymod", version: str = "0.1") -> Path:
    """A pure-Python wheel (py3-none-any) with one module and a test folder."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": b"VALUE = 42\n",
        "tests/test_tinymod.py": b"def test(): pass\n",  # Powertools' cleanup drops tests/
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = [_record(path, data) for path, data in files.items()] + [f"{dist}/RECORD,,"]
    wheel = out / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
        zf.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
    return wheel


def test_the_package_is_installed_once_then_reused_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = build_wheel(tmp_path)
    monkeypatch.setenv("STEWARD_E2E_LAYER_PACKAGE", str(wheel))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    layer = LocalLambdaPowertoolsLayer(output_dir=tmp_path / "cdk.out", architecture="arm64")
    assert "--platform manylinux_2_17_aarch64 --platform manylinux_2_28_aarch64" in (
        layer.build_args
    )

    built = Path(layer.build())
    assert built == tmp_path / "cdk.out" / "layer_build"
    python = built / "python"
    assert (python / "tinymod.py").read_text() == "VALUE = 42\n"
    assert not (python / "tests").exists()
    assert (tmp_path / "cdk.out" / "layer_build.diff").is_file()

    pip_runs: list[int] = []
    real_pip = LocalLambdaPowertoolsLayer._pip

    def counting_pip(self: LocalLambdaPowertoolsLayer) -> None:
        pip_runs.append(1)
        real_pip(self)

    monkeypatch.setattr(LocalLambdaPowertoolsLayer, "_pip", counting_pip)
    again = LocalLambdaPowertoolsLayer(output_dir=tmp_path / "cdk.out", architecture="arm64")
    assert again.build() == str(built)
    assert pip_runs == []  # unchanged wheel, platform and Python: no pip at all

    wheel.write_bytes(wheel.read_bytes() + b"\0")  # new bytes move the hash
    changed = LocalLambdaPowertoolsLayer(output_dir=tmp_path / "cdk.out", architecture="arm64")
    assert changed._has_source_changed()


def test_a_failed_install_is_a_steward_error_with_pips_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_E2E_LAYER_PACKAGE", "steward-no-such-package-e2e==1.0")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    layer = LocalLambdaPowertoolsLayer(output_dir=tmp_path)
    with pytest.raises(StewardError, match="layer build failed") as raised:
        layer.build()
    assert "steward-no-such-package-e2e" in str(raised.value)
    assert not (tmp_path / "layer_build.diff").exists()  # the next run tries again


def test_the_default_package_is_the_project_with_the_extras_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STEWARD_E2E_LAYER_PACKAGE", raising=False)
    monkeypatch.setattr(powertools_layer, "SOURCE_CODE_ROOT_PATH", tmp_path)
    monkeypatch.setenv("STEWARD_E2E_LAYER_EXTRAS", "all, redis")
    assert LocalLambdaPowertoolsLayer(output_dir=tmp_path).package == f"{tmp_path}[all,redis]"
    monkeypatch.delenv("STEWARD_E2E_LAYER_EXTRAS")
    layer = LocalLambdaPowertoolsLayer(output_dir=tmp_path)
    assert layer.package == str(tmp_path)
    assert layer.build_command[1:4] == ["-m", "pip", "install"]
    assert "--only-binary=:all:" in layer.build_command
    with pytest.raises(ValueError, match="unknown architecture"):
        LocalLambdaPowertoolsLayer(output_dir=tmp_path, architecture="s390x")


def test_cdk_architecture_members_are_accepted(tmp_path: Path) -> None:
    lam = pytest.importorskip("aws_cdk.aws_lambda")
    layer = LocalLambdaPowertoolsLayer(output_dir=tmp_path, architecture=lam.Architecture.ARM_64)
    assert layer.platforms == ("manylinux_2_17_aarch64", "manylinux_2_28_aarch64")


def test_project_sources_hash_the_package_not_the_build_output(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "mylib").mkdir(parents=True)
    (project / "mylib" / "__init__.py").write_text("")
    (project / "tests").mkdir()
    (project / "tests" / "__init__.py").write_text("")
    (project / "cdk.out").mkdir()
    (project / "pyproject.toml").write_text("[project]\nname='mylib'\n")
    sources = powertools_layer._local_sources(f"{project}[all]")
    assert [p.name for p in sources] == ["mylib", "pyproject.toml"]
    assert powertools_layer._local_sources("aws-lambda-powertools[all]==3.2.0") == []
