"""Reading a real pypiserver before uploading: same sha256 -> skip, different -> refuse."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from steward.config.model import StewardConfig
from steward.errors import ReleaseError
from steward.pipeline.context import Context
from steward.pipeline.index import existing_files, project_of
from steward.pipeline.stages.publish import _plan_uploads
from steward.pipeline.state import ReleaseState
from tests.pipeline.conftest import Index


def test_project_names_from_filenames() -> None:
    assert project_of("My_Pkg-1.0.0-py3-none-any.whl") == "my-pkg"
    assert project_of("my.pkg-1.0.0.tar.gz") == "my-pkg"


def test_existing_files_skip_and_refuse(tmp_path: Path, pypi: Index) -> None:
    (pypi.packages / "sample-1.0.0.tar.gz").write_bytes(b"the published sdist")
    (pypi.packages / "sample-1.0.0-py3-none-any.whl").write_bytes(b"the published wheel")
    sdist_sha = hashlib.sha256(b"the published sdist").hexdigest()
    wheel_sha = hashlib.sha256(b"the published wheel").hexdigest()
    assert existing_files(pypi.simple_url, "sample") == {
        "sample-1.0.0.tar.gz": sdist_sha,
        "sample-1.0.0-py3-none-any.whl": wheel_sha,
    }
    assert existing_files(pypi.simple_url, "not-there") == {}

    config = StewardConfig.model_validate({"release": {"index_simple_url": pypi.simple_url}})
    ctx = Context(tmp_path, "1.0.0", False, config, ReleaseState("1.0.0"), tmp_path, {})
    upload, skip = _plan_uploads(
        ctx, {"sample-1.0.0.tar.gz": sdist_sha, "sample-1.0.1.tar.gz": "0" * 64}
    )
    assert (upload, skip) == (["sample-1.0.1.tar.gz"], ["sample-1.0.0.tar.gz"])
    with pytest.raises(ReleaseError, match="already on the index with sha256 " + wheel_sha):
        _plan_uploads(ctx, {"sample-1.0.0-py3-none-any.whl": "f" * 64})
