"""AWS access for the layer and SAR stages: one session per account.

Credentials come from the account's named profile or from the environment variables it
names (never from the config file), then, when `role_arn` is set, from sts:AssumeRole with
them. The release's environment (`Context.env`) is what is read: `AWS_CONFIG_FILE`,
`AWS_SHARED_CREDENTIALS_FILE`, `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` (a local
emulator) included. Clients retry throttling and transient errors (botocore's standard
mode). Every AWS error reaches the runner as a `ReleaseError` naming what failed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from steward.config.pipeline import AwsAccount
from steward.errors import ReleaseError


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account as one stage uses it: ``stage`` (e.g. layer-beta), ``tier`` (beta, prod)."""

    stage: str
    tier: str
    config: AwsAccount = field(compare=False, hash=False)  # hashed by stage and tier


_FILES = (("AWS_CONFIG_FILE", "config_file"), ("AWS_SHARED_CREDENTIALS_FILE", "credentials_file"))
# (account, region, service name) -> a boto3 client; tests and the benchmark may wrap it.
ClientFactory = Callable[[AccountRef, str, str], Any]


@dataclass(frozen=True, slots=True)
class LocalLambda:
    """An emulator's Invoke answered by running the handler on this machine (an emulator
    such as moto only echoes the event, so the layer canary would prove nothing there)."""

    machine: str  # x86_64 | arm64: the only architecture whose layers import here
    python: str  # X.Y of the interpreter the handlers run with
    layer_root: str  # where the runtime unpacks layers (Lambda's own is /opt)


# Given a new Lambda client and the account's other clients in its region (service ->
# client), makes its Invoke run handlers here when its endpoint is an emulator, and says
# how; None leaves the client alone (real AWS). Injected by the CLI (steward.pipeline may
# not import steward.e2e, where the local runtime lives).
LambdaRunner = Callable[[Any, Callable[[str], Any]], LocalLambda | None]


def local_lambda(factory: ClientFactory, account: AccountRef, region: str) -> LocalLambda | None:
    """How ``factory``'s Lambda client for ``account`` in ``region`` runs handlers here,
    if it does (a factory without a `local_lambda` method never does)."""
    found = getattr(factory, "local_lambda", None)
    if found is None:
        return None
    result = found(account, region)
    return result if isinstance(result, LocalLambda) else None


@dataclass(frozen=True, slots=True)
class Identity:
    account_id: str
    arn: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]


def describe_error(exc: BaseException) -> str:
    """One line for an AWS error: the service's code and message, or botocore's text."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error") or {}
        code, message = err.get("Code", ""), err.get("Message", "")
        if code or message:
            return f"{code}: {message}".strip(": ")
    return str(exc) or type(exc).__name__


def aws_errors() -> tuple[type[BaseException], ...]:
    """The exception types an AWS call raises (botocore's), for ``except`` clauses."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code", ""))
    return ""


def endpoint_url(env: Mapping[str, str], service: str) -> str | None:
    """The endpoint override for ``service`` from the environment, as botocore reads it."""
    key = "AWS_ENDPOINT_URL_" + re.sub(r"[^A-Z0-9]", "_", service.upper())
    return env.get(key) or env.get("AWS_ENDPOINT_URL") or None


def missing(account: AwsAccount, env: Mapping[str, str]) -> list[str]:
    """What the account's credentials need and the environment lacks (names, never values)."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        return ["boto3 is not installed: pip install 'repo-steward[release]'"]
    if account.profile:
        profiles = _botocore_session(env).available_profiles
        if account.profile not in profiles:
            return [f"AWS profile {account.profile} is not in the AWS config or credentials file"]
        return []
    required = [account.access_key_id_env, account.secret_access_key_env]
    return [f"set {name}" for name in required if name and not env.get(name)]


def _botocore_session(env: Mapping[str, str]) -> Any:
    import botocore.session

    session = botocore.session.Session()
    for var, key in _FILES:
        if env.get(var):
            session.set_config_variable(key, env[var])
    return session


class Sessions:
    """The default `ClientFactory`: one boto3 session per account, made on first use."""

    def __init__(
        self,
        env: Mapping[str, str],
        session_name: str,
        *,
        lambda_runner: LambdaRunner | None = None,
    ) -> None:
        self._env = env
        self._name = re.sub(r"[^\w+=,.@-]", "-", session_name)[:64].ljust(2, "-")
        self._sessions: dict[AccountRef, Any] = {}
        self._lock = threading.Lock()
        self._runner = lambda_runner
        self._local: dict[tuple[AccountRef, str], LocalLambda | None] = {}

    def local_lambda(self, account: AccountRef, region: str) -> LocalLambda | None:
        """How the Lambda clients made for ``account`` in ``region`` run handlers here."""
        with self._lock:
            return self._local.get((account, region))

    def __call__(self, account: AccountRef, region: str, service: str) -> Any:
        from botocore.config import Config

        session = self._session(account)
        timeout = 930 if service == "lambda" else 60  # an invoke may take 900 s
        config = Config(
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=10,
            read_timeout=timeout,
            user_agent_extra="steward-release",
        )
        try:
            client = session.client(
                service,
                region_name=region,
                endpoint_url=endpoint_url(self._env, service),
                config=config,
            )
        except aws_errors() as exc:
            raise ReleaseError(
                f"stage {account.stage}: no {service} client in {region}: {describe_error(exc)}"
            ) from None
        if service == "lambda" and self._runner is not None:
            local = self._runner(client, lambda other: self(account, region, other))
            with self._lock:
                self._local[(account, region)] = local
        return client

    def _session(self, account: AccountRef) -> Any:
        with self._lock:
            if account not in self._sessions:
                try:
                    self._sessions[account] = self._make(account)
                except aws_errors() as exc:
                    raise ReleaseError(
                        f"stage {account.stage}: no AWS session for the {account.tier} account "
                        f"({account.config.describe()}): {describe_error(exc)}"
                    ) from None
            return self._sessions[account]

    def _make(self, account: AccountRef) -> Any:
        import boto3

        cfg, env = account.config, self._env
        if cfg.profile:
            base = boto3.Session(botocore_session=_botocore_session(env), profile_name=cfg.profile)
        else:
            values = {}
            for key, name in (
                ("aws_access_key_id", cfg.access_key_id_env),
                ("aws_secret_access_key", cfg.secret_access_key_env),
                ("aws_session_token", cfg.session_token_env),
            ):
                if name is None:
                    continue
                if not env.get(name) and key != "aws_session_token":
                    raise ReleaseError(
                        f"stage {account.stage}: no AWS credentials for the {account.tier} "
                        f"account: set {name}"
                    )
                values[key] = env.get(name) or None
            base = boto3.Session(botocore_session=_botocore_session(env), **values)
        if not cfg.role_arn:
            return base
        region = cfg.regions[0]
        sts = base.client("sts", region_name=region, endpoint_url=endpoint_url(env, "sts"))
        try:
            creds = sts.assume_role(
                RoleArn=cfg.role_arn, RoleSessionName=self._name, DurationSeconds=3600
            )["Credentials"]
        except aws_errors() as exc:
            raise ReleaseError(
                f"stage {account.stage}: cannot assume {cfg.role_arn}: {describe_error(exc)}"
            ) from None
        return boto3.Session(
            botocore_session=_botocore_session(env),
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )


def identity(factory: ClientFactory, account: AccountRef) -> Identity:
    """Who the account's credentials are; refused when not the configured account id."""
    region = account.config.regions[0]
    try:
        got = factory(account, region, "sts").get_caller_identity()
    except aws_errors() as exc:
        raise ReleaseError(
            f"stage {account.stage}: cannot read the {account.tier} account's identity "
            f"({account.config.describe()}): {describe_error(exc)}"
        ) from None
    ident = Identity(str(got["Account"]), str(got["Arn"]))
    expected = account.config.account_id
    if expected and ident.account_id != expected:
        raise ReleaseError(
            f"stage {account.stage}: the {account.tier} credentials are for account "
            f"{ident.account_id}, not the configured {expected}: nothing was published"
        )
    return ident
