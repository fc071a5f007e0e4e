"""Config section for the release pipeline (`release:` in .github/steward.yml).

The defaults are the playbook's "Release process visualized": seal, quality, build,
provenance, publish, git release (tag), the Lambda layer (build, beta, prod), the Serverless
Application Repository (beta, prod) and post-release, in that order. The layer and SAR stages
are skipped until their sections (`layer:`, `sar:`) say what to build and where to publish.
AWS credentials are never in this file: each account names a profile or environment
variables.
"""

from __future__ import annotations

import re
import string
from typing import Literal, Self, get_args

from pydantic import Field, field_validator, model_validator

from steward.config.base import RepoPath, Section
from steward.config.docs import DocsConfig
from steward.config.lists import Once

StageName = Literal[
    "seal",
    "quality",
    "build",
    "provenance",
    "publish",
    "tag",
    "layer-build",
    "layer-beta",
    "layer-prod",
    "sar-beta",
    "sar-prod",
    "docs",
    "post-release",
]
# In the playbook's order ("Release process visualized").
STAGES: tuple[StageName, ...] = get_args(StageName)
# (earlier, later): when both are listed, the later one reads what the earlier one recorded.
ORDER: tuple[tuple[str, str], ...] = (
    ("build", "layer-build"),
    ("layer-build", "layer-beta"),
    ("layer-build", "layer-prod"),
    ("layer-beta", "layer-prod"),
    ("layer-beta", "sar-beta"),
    ("layer-prod", "sar-prod"),
    ("sar-beta", "sar-prod"),
    ("layer-prod", "docs"),
)
Architecture = Literal["x86_64", "arm64"]
ARCHITECTURES: tuple[Architecture, ...] = ("x86_64", "arm64")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_LAYER_NAME = re.compile(r"[A-Za-z0-9_-]{1,140}")
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLATFORM = re.compile(r"manylinux(2014|_2_\d+)")
_PYTHON = re.compile(r"3\.\d{1,2}")
_SAR_NAME = re.compile(r"[A-Za-z0-9-]{1,140}")


def _placeholders(value: str, allowed: set[str], what: str) -> str:
    """``value`` when its only ``{...}`` fields are plain names from ``allowed`` (so that
    str.format with those names cannot fail)."""
    names = ", ".join("{" + n + "}" for n in sorted(allowed))
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    for _, name, spec, conversion in parsed:
        if name is not None and (name not in allowed or spec or conversion):
            raise ValueError(f"{what}: only the placeholders {names} may be used")
    return value


def _default_stages() -> list[StageName]:
    return list(STAGES)


def _default_quality() -> list[str]:
    return ["python", "-m", "pytest", "-q"]


def _default_architectures() -> list[Architecture]:
    return list(ARCHITECTURES)


class AwsAccount(Section):
    """One AWS account to publish to: where its credentials come from, and its regions."""

    profile: str | None = Field(
        None, description="named profile in the AWS config/credentials files (AWS_CONFIG_FILE)"
    )
    access_key_id_env: str | None = Field(
        None, description="env var holding the access key id (instead of a profile)"
    )
    secret_access_key_env: str | None = Field(
        None, description="env var holding the secret access key (with access_key_id_env)"
    )
    session_token_env: str | None = Field(
        None, description="env var holding the session token of temporary credentials"
    )
    role_arn: str | None = Field(
        None, description="role assumed (sts:AssumeRole) with those credentials before publishing"
    )
    account_id: str | None = Field(
        None,
        pattern=r"^\d{12}$",
        description="expected account id, checked (sts:GetCallerIdentity) before publishing",
    )
    regions: list[str] = Field(min_length=1, description="regions to publish to, in order")

    @field_validator("regions")
    @classmethod
    def _check_regions(cls, value: list[str]) -> list[str]:
        bad = [r for r in value if not _REGION.fullmatch(r)]
        if bad:
            raise ValueError(f"not AWS region names: {', '.join(bad)}")
        if len(set(value)) != len(value):
            raise ValueError("a region is listed twice")
        return value

    @field_validator("access_key_id_env", "secret_access_key_env", "session_token_env")
    @classmethod
    def _check_env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        keys = (self.access_key_id_env, self.secret_access_key_env)
        if (keys[0] is None) != (keys[1] is None):
            raise ValueError("set both access_key_id_env and secret_access_key_env")
        if self.session_token_env and keys[0] is None:
            raise ValueError("session_token_env needs access_key_id_env and secret_access_key_env")
        if (self.profile is None) == (keys[0] is None):
            raise ValueError(
                "name the credentials: either profile, or access_key_id_env and "
                "secret_access_key_env (never the keys themselves)"
            )
        return self

    def credential_envs(self) -> list[str]:
        """The environment variables this account's credentials are read from."""
        names = (self.access_key_id_env, self.secret_access_key_env, self.session_token_env)
        return [n for n in names if n]

    def describe(self) -> str:
        """Where the credentials come from (names only, never values)."""
        where = (
            f"profile {self.profile}" if self.profile else "$" + ", $".join(self.credential_envs())
        )
        role = f", role {self.role_arn}" if self.role_arn else ""
        expected = f", account {self.account_id}" if self.account_id else ""
        return where + role + expected


class Accounts(Section):
    """The beta and prod accounts; a stage whose account is not set is skipped."""

    beta: AwsAccount | None = Field(None, description="account of the beta stage")
    prod: AwsAccount | None = Field(None, description="account of the prod stage")


class LayerCanary(Section):
    """The canary function created with each new layer version, invoked once per region."""

    enabled: bool = Field(True, description="create and invoke a canary function per region")
    role_name: str = Field(
        "steward-layer-canary",
        description="IAM role (same name in every account) the canary function runs as",
    )
    function_name: str = Field(
        "{layer}-canary", description="canary function name; {layer} is the layer's name"
    )
    memory_mb: int = Field(256, ge=128, le=10240, description="canary memory size in MB")
    timeout_s: int = Field(60, ge=1, le=900, description="canary timeout in seconds")
    keep_function: bool = Field(
        False, description="keep the canary function after the invoke (else it is deleted)"
    )

    @field_validator("function_name")
    @classmethod
    def _function_placeholders(cls, value: str) -> str:
        return _placeholders(value, {"layer"}, "canary.function_name")


class LayerConfig(Section):
    """A Lambda layer per Python version and architecture from the sealed wheel and its
    dependencies (Powertools ships python3.8 ... python3.12 x x86_64/arm64)."""

    name: str = Field(
        description="layer name; {arch} (x86_64, arm64) and {pyver} (e.g. 312) are replaced"
    )
    package: str | None = Field(
        None, description="distribution to install from the sealed wheels (else the only one)"
    )
    extras: Once = Field(default_factory=list, description="extras installed with it")
    imports: Once = Field(
        default_factory=list,
        description="modules the canaries import (default: the package's import name)",
    )
    python: str = Field(
        "3.12",
        pattern=r"^3\.\d{1,2}$",
        description="Python version the layer is built for (shorthand for pythons: [X.Y])",
    )
    pythons: list[str] | None = Field(
        None,
        min_length=1,
        description="Python versions, one layer each per architecture (name needs {pyver} "
        "when there are several); else [python]",
    )
    architectures: list[Architecture] = Field(
        default_factory=_default_architectures, min_length=1, description="one zip per entry"
    )
    platform: str = Field(
        "manylinux2014",
        description="pip --platform without the machine (manylinux2014 or manylinux_2_X)",
    )
    index_url: str | None = Field(
        None, description="simple index for the dependencies (else release.index_simple_url)"
    )
    extra_index_urls: Once = Field(
        default_factory=list, description="more simple indexes for the dependencies"
    )
    interpreter: str | None = Field(
        None,
        description="python of the layer's version for the import canary "
        "(else this one when it matches, else pythonX.Y on PATH); one Python only",
    )
    interpreters: dict[str, str] = Field(
        default_factory=dict,
        description="python per version for the import canaries (X.Y: path); a version "
        "without one that runs here is recorded 'not run' when pythons lists several",
    )
    compatible_runtimes: Once | None = Field(
        None,
        description="CompatibleRuntimes of each version (default [pythonX.Y] of its own "
        "Python); one Python only",
    )
    description: str = Field(
        "{package} {version} ({arch})",
        max_length=200,
        description="layer version description; {package}, {version}, {arch} are replaced",
    )
    license_info: str | None = Field(
        None, max_length=512, description="LicenseInfo of each version (e.g. an SPDX id)"
    )
    public: bool = Field(
        False, description="AddLayerVersionPermission: any account may use the version"
    )
    accounts: Accounts = Field(
        default_factory=Accounts, description="where layer-beta and layer-prod publish"
    )
    canary: LayerCanary = Field(
        default_factory=LayerCanary, description="canary function per region"
    )
    parity: bool = Field(
        True,
        description="layer-prod ends by checking that every layer has the same version "
        "number and CodeSha256 in every region of each account published to",
    )

    @field_validator("pythons")
    @classmethod
    def _check_pythons(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        bad = [v for v in value if not _PYTHON.fullmatch(v)]
        if bad:
            raise ValueError(f"not Python versions (X.Y): {', '.join(bad)}")
        if len(set(value)) != len(value):
            raise ValueError("a Python version is listed twice")
        return value

    @field_validator("interpreters")
    @classmethod
    def _check_interpreters(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [v for v in value if not _PYTHON.fullmatch(v)]
        if bad:
            raise ValueError(f"interpreters: keys are Python versions (X.Y), not {bad}")
        return value

    @field_validator("name")
    @classmethod
    def _name_placeholders(cls, value: str) -> str:
        return _placeholders(value, {"arch", "pyver"}, "layer.name")

    @field_validator("description")
    @classmethod
    def _description_placeholders(cls, value: str) -> str:
        return _placeholders(value, {"package", "version", "arch"}, "layer.description")

    @field_validator("platform")
    @classmethod
    def _check_platform(cls, value: str) -> str:
        if not _PLATFORM.fullmatch(value):
            raise ValueError("platform must be manylinux2014 or manylinux_2_X")
        return value

    @field_validator("architectures")
    @classmethod
    def _unique_architectures(cls, value: list[Architecture]) -> list[Architecture]:
        if len(set(value)) != len(value):
            raise ValueError("an architecture is listed twice")
        return value

    @model_validator(mode="after")
    def _check_names(self) -> Self:
        if self.pythons is not None and "python" in self.model_fields_set:
            raise ValueError("set python or pythons, not both")
        if len(self.architectures) > 1 and "{arch}" not in self.name:
            raise ValueError("name needs {arch}: each architecture is its own layer")
        several = len(self.versions) > 1
        if several and "{pyver}" not in self.name:
            raise ValueError("name needs {pyver}: each Python version is its own layer")
        if several and (self.compatible_runtimes or self.interpreter):
            raise ValueError(
                "with several pythons each layer's runtime is its own Python: "
                "compatible_runtimes and interpreter are for one Python (use interpreters)"
            )
        for python, arch in self.variants():
            name = self.layer_name(arch, python)
            if not _LAYER_NAME.fullmatch(name):
                raise ValueError(f"layer name {name!r}: letters, digits, - and _ only")
            function = self.canary.function_name.format(layer=name)
            if self.canary.enabled and not _FUNCTION_NAME.fullmatch(function):
                raise ValueError(
                    f"canary function name {function!r}: up to 64 letters, digits, - and _"
                )
        if self.runtime not in self.runtimes:
            raise ValueError(f"compatible_runtimes must include {self.runtime}")
        return self

    @property
    def versions(self) -> list[str]:
        """The Python versions built: `pythons`, else the `python` shorthand."""
        return list(self.pythons) if self.pythons else [self.python]

    def variants(self) -> list[tuple[str, str]]:
        """Every (python, architecture) layer, Python versions first."""
        return [(p, a) for p in self.versions for a in self.architectures]

    def key(self, python: str, arch: str) -> str:
        """How a layer is named in zips and records: the architecture alone while one Python
        is built (today's `layer-x86_64.zip`), else `python3.12-x86_64`."""
        return arch if len(self.versions) == 1 else f"python{python}-{arch}"

    @property
    def runtime(self) -> str:
        """The Lambda runtime of the first Python version (the one of the shorthand)."""
        return f"python{self.versions[0]}"

    @property
    def runtimes(self) -> list[str]:
        return self.compatible_runtimes or [self.runtime]

    def runtimes_of(self, python: str) -> list[str]:
        """CompatibleRuntimes of the ``python`` layer."""
        return self.compatible_runtimes or [f"python{python}"]

    def layer_name(self, arch: str, python: str | None = None) -> str:
        python = python or self.versions[0]
        return self.name.format(arch=arch, pyver=python.replace(".", ""))


class SarCanary(Section):
    """sar-beta's canary stack: the application deployed through a CloudFormation change set
    (`CreateCloudFormationChangeSet`), checked and deleted, as the playbook's beta does."""

    enabled: bool | None = Field(
        None,
        description="deploy a canary stack per application in beta; default: on when the "
        "application packages the layer (bucket set)",
    )
    stack_name: str = Field(
        "{application}-canary",
        description="stack name given to SAR ({application} replaced); SAR names the stack "
        "serverlessrepo-<name>",
    )
    capabilities: Once = Field(
        default_factory=lambda: ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"],
        description="capabilities acknowledged for the change set",
    )
    timeout_s: int = Field(900, ge=30, le=3600, description="wait for each stack step")
    keep_stack: bool = Field(False, description="keep the canary stack (else it is deleted)")

    @field_validator("stack_name")
    @classmethod
    def _stack_placeholders(cls, value: str) -> str:
        return _placeholders(value, {"application"}, "sar.canary.stack_name")


class SarConfig(Section):
    """A Serverless Application Repository application, one version per release; one
    application per Python version and architecture when the name says {pyver} or {arch}."""

    name: str = Field(
        description="application name (created if missing); {pyver} (312) and {arch} "
        "(x8664, arm64: SAR names take no _) make one application per layer"
    )
    template: RepoPath = Field(
        description="SAM template in the repository, read from the sealed source; "
        "{{steward.version}}, {{steward.semantic_version}}, {{steward.region}} and "
        "{{steward.layer_arn.<arch>}} are replaced; per layer also {{steward.layer_arn}}, "
        "{{steward.python}}, {{steward.runtime}}, {{steward.arch}}, {{steward.application}} "
        "and, with bucket, {{steward.layer_content_uri}}"
    )
    author: str = Field(description="author shown in the repository")
    description: str = Field(max_length=256, description="application description")
    semantic_version: str | None = Field(
        None,
        description="SemanticVersion, {version} replaced (else the PEP 440 version as SemVer)",
    )
    home_page_url: str | None = Field(None, description="HomePageUrl of a new application")
    source_code_url: str | None = Field(None, description="SourceCodeUrl of each version")
    spdx_license_id: str | None = Field(None, description="SPDX license id of a new application")
    license_file: RepoPath | None = Field(
        None, description="license file in the repository (LicenseBody of a new application)"
    )
    readme_file: RepoPath | None = Field(
        None, description="readme file in the repository (ReadmeBody of a new application)"
    )
    labels: Once = Field(default_factory=list, description="labels of a new application")
    public: bool = Field(
        False, description="PutApplicationPolicy: every account may deploy the application"
    )
    bucket: str | None = Field(
        None,
        description="S3 bucket ({account}, {region} replaced) the sealed layer zip is uploaded "
        "to, as `sam package` does, for {{steward.layer_content_uri}}; it must exist and let "
        "serverlessrepo.amazonaws.com read it",
    )
    canary: SarCanary = Field(
        default_factory=SarCanary, description="the beta canary stack per application"
    )
    accounts: Accounts = Field(
        default_factory=Accounts, description="where sar-beta and sar-prod publish"
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        _placeholders(value, {"pyver", "arch"}, "sar.name")
        if not _SAR_NAME.fullmatch(value.format(pyver="312", arch="x8664")):
            raise ValueError("sar.name: letters, digits and - only, up to 140")
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket_placeholders(cls, value: str | None) -> str | None:
        return None if value is None else _placeholders(value, {"account", "region"}, "sar.bucket")

    @field_validator("semantic_version")
    @classmethod
    def _semver_placeholders(cls, value: str | None) -> str | None:
        return None if value is None else _placeholders(value, {"version"}, "sar.semantic_version")

    @property
    def per_layer(self) -> bool:
        """One application per (python, arch) layer: the name varies with them."""
        return "{pyver}" in self.name or "{arch}" in self.name

    @property
    def canary_enabled(self) -> bool:
        return self.canary.enabled if self.canary.enabled is not None else bool(self.bucket)

    def application_name(self, python: str, arch: str) -> str:
        return self.name.format(pyver=python.replace(".", ""), arch=arch.replace("_", ""))


class PipelineConfig(Section):
    """How `steward release run` seals, checks, builds, attests, publishes and tags."""

    stages: list[StageName] = Field(
        default_factory=_default_stages,
        description="stages to run, in order (seal must come first when present)",
    )
    state_dir: RepoPath = Field(".steward", description="where release state and sealed files live")
    quality_command: list[str] = Field(
        default_factory=_default_quality,
        description="argv run in the restored source tree ({version} is replaced)",
    )
    quality_timeout: float = Field(
        1800.0, gt=0, allow_inf_nan=False, description="seconds before quality fails"
    )
    build_isolation: bool = Field(
        True, description="build in an isolated environment (python -m build's default)"
    )
    reproducibility_check: bool = Field(
        False, description="build twice and fail naming any artifact whose hash differs"
    )
    index_url: str = Field(
        "https://upload.pypi.org/legacy/", description="upload URL of the package index"
    )
    index_simple_url: str = Field(
        "https://pypi.org/simple/",
        description="the index's simple API, read before uploading to skip or refuse files",
    )
    index_username_env: str = Field("TWINE_USERNAME", description="env var with the username")
    index_password_env: str = Field("TWINE_PASSWORD", description="env var with the password")
    signing_key_file: RepoPath | None = Field(
        None,
        description="PEM PKCS#8 Ed25519 private key file inside the repository (a key kept "
        "elsewhere goes in signing_key_env)",
    )
    signing_key_env: str = Field(
        "STEWARD_SIGNING_KEY", description="env var holding the PEM key when no file is set"
    )
    builder_id: str = Field(
        "https://github.com/repo-steward/steward/release-pipeline@v1",
        description="SLSA builder.id recorded in the provenance",
    )
    remote: str = Field("origin", description="git remote the tag (and bump branch) go to")
    git_user_name: str = Field("steward-release", description="author of the bump commit")
    git_user_email: str = Field("steward-release@users.noreply.github.com")
    bump_message: str = Field("chore(version): bump version to {version}")
    bump_pr: bool = Field(
        True,
        description="push a bump branch and open its PR on GitHub (the playbook's \"Bump "
        'package version" + "Create PR"); needs GITHUB_TOKEN; false: the bump commit '
        "stays on the tag only",
    )
    bump_branch: str = Field("steward/bump-{version}", description="branch for the bump PR")
    base_branch: str = Field("develop", description="branch the bump PR targets")
    repository: str | None = Field(
        None, description="OWNER/NAME on GitHub (else GITHUB_REPOSITORY) for PR and post-release"
    )
    publish_release_notes: bool = Field(
        True, description="post-release: publish the drafted GitHub release for the tag"
    )
    layer: LayerConfig | None = Field(
        None, description="the Lambda layer stages (skipped while unset)"
    )
    docs: DocsConfig = Field(
        default_factory=DocsConfig,
        description="the docs stage: versioned docs with mkdocs and mike, and the layer ARN PR",
    )
    sar: SarConfig | None = Field(
        None, description="the Serverless Application Repository stages (skipped while unset)"
    )

    @model_validator(mode="after")
    def _sar_layers(self) -> Self:
        sar, layer = self.sar, self.layer
        if sar is not None and (sar.per_layer or sar.bucket) and layer is None:
            raise ValueError("sar: {pyver}, {arch} and bucket need release.layer")
        several = layer is not None and len(layer.variants()) > 1
        if sar is not None and sar.bucket and not sar.per_layer and several:
            raise ValueError(
                "sar.name needs {pyver} and {arch} to package several layers (one "
                "application per Python version and architecture)"
            )
        if sar is not None and layer is not None and sar.per_layer:
            names = {sar.application_name(p, a) for p, a in layer.variants()}
            if len(names) != len(layer.variants()):
                raise ValueError("sar.name must tell every (python, arch) layer apart")
        return self

    @field_validator("stages")
    @classmethod
    def _check_stages(cls, value: list[StageName]) -> list[StageName]:
        if len(set(value)) != len(value):
            raise ValueError("a stage is listed twice")
        if "seal" in value and value[0] != "seal":
            raise ValueError("seal must be the first stage")
        for earlier, later in ORDER:
            if earlier in value and later in value and value.index(earlier) > value.index(later):
                raise ValueError(f"{earlier} must come before {later}")
        return value
