"""The local runtime's pieces that need no emulator: safe unzip, names, code locations."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from steward.e2e.local_runtime import code
from steward.e2e.local_runtime.code import CodeError, extract, moto_key, runtime_dir
from steward.e2e.local_runtime.runtime import split_function_name


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def _symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("entries", "why"),
    [
        ([("../evil.py", b"x")], "unsafe path"),
        ([("a/../../evil.py", b"x")], "unsafe path"),
        ([("/etc/evil.py", b"x")], "unsafe path"),
        ([("C:/evil.py", b"x")], "unsafe path"),
        ([(_symlink("link", "/etc/passwd"), b"/etc/passwd")], "symlink"),
    ],
)
def test_an_unsafe_zip_is_refused(
    tmp_path: Path, entries: list[tuple[Any, bytes]], why: str
) -> None:
    with pytest.raises(CodeError, match=why):
        extract(_zip(entries), tmp_path / "out", "the code")
    assert not (tmp_path / "evil.py").exists()


def test_the_unzipped_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(code, "MAX_UNZIPPED", 1000)
    data = _zip([("a.py", b"a" * 600), ("b.py", b"b" * 600)])
    with pytest.raises(CodeError, match="over 1000 bytes unzipped"):
        extract(data, tmp_path / "out", "the code")


def test_a_safe_zip_is_extracted(tmp_path: Path) -> None:
    extract(_zip([("pkg/", b""), ("pkg/mod.py", b"X = 1\n")]), tmp_path / "out", "the code")
    assert (tmp_path / "out" / "pkg" / "mod.py").read_text() == "X = 1\n"


def test_the_runtime_dir_holds_only_what_lambda_ships(tmp_path: Path) -> None:
    found = {p.name for p in runtime_dir(tmp_path).iterdir()}
    assert {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"} <= found
    assert not {"pytest", "_pytest", "steward", "moto", "filelock"} & found
    assert runtime_dir(tmp_path) == runtime_dir(tmp_path)


@pytest.mark.parametrize(
    ("name", "qualifier", "expected"),
    [
        ("fn", None, ("fn", None)),
        ("fn:prod", None, ("fn", "prod")),
        ("123456789012:function:fn", None, ("fn", None)),
        ("123456789012:function:fn:3", None, ("fn", "3")),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn", None, ("fn", None)),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST", None, ("fn", "$LATEST")),
        ("fn", "$LATEST", ("fn", "$LATEST")),
    ],
)
def test_function_names(name: str, qualifier: str | None, expected: tuple[str, str | None]) -> None:
    assert split_function_name(name, qualifier) == expected


def test_motos_fake_location_names_the_key_and_a_signed_url_does_not() -> None:
    fake = "https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/assets/abc.zip"
    assert moto_key(fake) == "assets/abc.zip"
    signed = (
        "https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/snapshots/1/fn-x"
        "?versionId=1&X-Amz-Security-Token=t&X-Amz-Signature=s"
    )
    assert moto_key(signed) is None
    assert moto_key("https://prod-04-2014-tasks.s3.us-east-1.amazonaws.com/snapshots/x") is None
