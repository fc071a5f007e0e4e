"""A plain CloudFormation template built in Python, for projects without CDK.

Files a stack needs (Lambda code) are zipped deterministically and named by their content
hash, so an unchanged handler is never uploaded twice; the template refers to them through
the `AssetBucket` parameter, which the deployer fills in.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ASSET_BUCKET_PARAM = "AssetBucket"
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class FileAsset:
    """Bytes to upload to the asset bucket under `key` before the stack is created."""

    key: str
    data: bytes


def zip_dir(src: Path) -> bytes:
    """Deterministic zip (sorted names, fixed timestamps): same sources, same bytes and hash."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            if "__pycache__" in path.parts:
                continue
            info = zipfile.ZipInfo(path.relative_to(src).as_posix(), _EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def file_asset(data: bytes, suffix: str = ".zip") -> FileAsset:
    return FileAsset(f"assets/{hashlib.sha256(data).hexdigest()}{suffix}", data)


@dataclass
class Template:
    """A CloudFormation template as a dict, plus the assets it references."""

    description: str = ""
    resources: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    assets: dict[str, FileAsset] = field(default_factory=dict)

    def add_resource(self, logical_id: str, type_: str, properties: dict[str, Any]) -> str:
        """Add a resource; returns its logical id for Ref/GetAtt. Ids must be unique."""
        if logical_id in self.resources:
            raise ValueError(f"duplicate logical id {logical_id!r}")
        self.resources[logical_id] = {"Type": type_, "Properties": properties}
        return logical_id

    def add_output(self, name: str, value: Any, description: str = "") -> None:
        self.outputs[name] = {
            "Value": value,
            **({"Description": description} if description else {}),
        }

    def add_asset(self, data: bytes, suffix: str = ".zip") -> dict[str, Any]:
        """Register bytes to upload; returns the `{S3Bucket, S3Key}` pair a Lambda Code takes."""
        asset = file_asset(data, suffix)
        self.assets[asset.key] = asset
        return {"S3Bucket": {"Ref": ASSET_BUCKET_PARAM}, "S3Key": asset.key}

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09"}
        if self.description:
            doc["Description"] = self.description
        if self.assets:
            doc["Parameters"] = {ASSET_BUCKET_PARAM: {"Type": "String"}}
        doc["Resources"] = self.resources
        if self.outputs:
            doc["Outputs"] = self.outputs
        return doc

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)
