"""Deploy and delete CloudFormation stacks with boto3: no CDK CLI, no bootstrap stack.

Reliability over the playbook's original: a stack left by a dead worker of the same run is
adopted (updated in place) or replaced, never an "already exists" failure; a failed create
is deleted right away; deletes are idempotent; a sweep removes every stack of a run.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from http import HTTPStatus
from typing import Any

from steward.e2e import aws
from steward.e2e.naming import RUN_TAG, asset_bucket
from steward.e2e.resources import Resource, Verifier, stack_resources
from steward.e2e.template import ASSET_BUCKET_PARAM, FileAsset
from steward.errors import StewardError

log = logging.getLogger(__name__)

MAX_BODY = 51_200  # CloudFormation's TemplateBody limit; larger templates go through S3
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
STABLE_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}
GONE = "DELETE_COMPLETE"
ALWAYS_SKIPPABLE = ("AWS::CDK::Metadata",)
# checked types whose physical id is a name the template may give literally
NAME_PROPERTY = {
    "AWS::SSM::Parameter": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName",
}  # the CDK's usage report, nothing a test uses
BUSY = {
    "CREATE_PENDING",  # moto: registered, resources not yet being created
    "CREATE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "ROLLBACK_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "REVIEW_IN_PROGRESS",
}


class DeployError(StewardError):
    """A stack could not be created, updated or deleted; the message carries AWS's reason."""


@dataclass(frozen=True)
class StackSpec:
    """Everything needed to deploy one stack."""

    name: str
    template: Mapping[str, Any]
    tags: Mapping[str, str]
    assets: tuple[FileAsset, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=dict)
    # resource types (fnmatch patterns) the target may skip: moto leaves out what its
    # CloudFormation does not implement (AppConfig, ...), and says so only in a warning
    allow_skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackInfo:
    name: str
    status: str
    tags: Mapping[str, str]
    created: datetime | None
    outputs: Mapping[str, str]


def _info(raw: Mapping[str, Any]) -> StackInfo:
    return StackInfo(
        name=raw["StackName"],
        status=raw["StackStatus"],
        tags={t["Key"]: t["Value"] for t in raw.get("Tags") or []},
        created=raw.get("CreationTime"),
        outputs={o["OutputKey"]: str(o["OutputValue"]) for o in raw.get("Outputs") or []},
    )


class CloudFormationDeployer:
    """boto3 CloudFormation + S3 (for assets); clients are injectable for tests and endpoints."""

    def __init__(
        self,
        *,
        cfn: Any = None,
        s3: Any = None,
        asset_bucket: str | None = None,
        timeout: float = 1800.0,
        stuck_after: float = 900.0,
        settle_before_delete: float = 15.0,
        sleep: Callable[[float], None] = time.sleep,
        verifier: Verifier | None = None,
    ) -> None:
        self.cfn = cfn or aws.client("cloudformation")
        self._s3 = s3
        self._bucket = asset_bucket
        self.timeout = timeout
        self.stuck_after = stuck_after
        self.settle_before_delete = settle_before_delete
        self.sleep = sleep
        self.verifier = verifier or Verifier()
        # stacks deleted without waiting, with the resources to check once they are gone
        self.pending: dict[str, list[Resource]] = {}
        # resources that outlived their stack's DELETE_COMPLETE (deleted directly since)
        self.leftovers: list[Resource] = []
        # operation -> (HTTP status, body) of its last error answer, for the error message:
        # an emulator's crash comes back as an HTML page botocore cannot parse
        self._answers: dict[str, tuple[int, bytes]] = {}
        self.emulated = aws.is_emulator(self.cfn)
        if self.emulated:
            # no retry storm on an emulator's crash; AWS keeps the standard retries (throttling).
            # A CreateStack retried after a crash could only say "already exists".
            aws.cap_server_error_retries(
                self.cfn, {"CreateStack": 0, "UpdateStack": 1, "DeleteStack": 1}
            )
        self.cfn.meta.events.register("before-parse.cloudformation", self._record_answer)
        PROCESS.deployers.add(self)

    def _record_answer(self, operation_model: Any, response_dict: Any, **_: Any) -> None:
        status = int(response_dict.get("status_code") or 0)
        if status >= 400:
            body = response_dict.get("body")
            self._answers[operation_model.name] = (status, body if isinstance(body, bytes) else b"")

    # -- assets -------------------------------------------------------------------------
    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = aws.client("s3")
        return self._s3

    def asset_bucket(self) -> str:
        """`steward-e2e-assets-<account>-<region>`, created on first use (idempotent)."""
        if self._bucket is None:
            region = self.cfn.meta.region_name
            self._bucket = asset_bucket(aws.account_id(), region)
        from botocore.exceptions import ClientError

        try:
            self.s3.head_bucket(Bucket=self._bucket)
        except ClientError:
            region = self.s3.meta.region_name
            extra = (
                {}
                if region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            try:
                self.s3.create_bucket(Bucket=self._bucket, **extra)
            except ClientError as exc:  # a parallel worker created it first
                if "BucketAlreadyOwnedByYou" not in str(exc):
                    raise
        return self._bucket

    def upload(self, assets: tuple[FileAsset, ...]) -> str:
        """Upload what is missing; keys are content hashes, so present means identical."""
        from botocore.exceptions import ClientError

        bucket = self.asset_bucket()
        for asset in assets:
            try:
                self.s3.head_object(Bucket=bucket, Key=asset.key)
            except ClientError:
                self.s3.put_object(Bucket=bucket, Key=asset.key, Body=asset.data)
        return bucket

    # -- queries ------------------------------------------------------------------------
    def describe(self, name: str) -> StackInfo | None:
        """The live stack called `name`, or None (deleted stacks count as absent)."""
        raw = self._described(name)
        return None if raw is None else _info(raw)

    def _described(self, name: str) -> Mapping[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            stacks = self.cfn.describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise
        live = [s for s in stacks if s["StackStatus"] != GONE]
        return live[0] if live else None

    def stacks(self) -> Iterator[StackInfo]:
        """Every live stack in the account and region. On an emulator, a create begun in the
        last minutes and still running gets up to `settle_before_delete` seconds in all to
        finish before anything is described (see `status`)."""
        if self.emulated:
            recent = datetime.now(UTC) - timedelta(minutes=5)
            deadline = time.monotonic() + self.settle_before_delete
            for page in self.cfn.get_paginator("list_stacks").paginate():
                for summary in page["StackSummaries"]:
                    created = summary.get("CreationTime")
                    if summary["StackStatus"] in BUSY and (created is None or created > recent):
                        left = deadline - time.monotonic()
                        if left > 0:
                            self.wait_stable(summary["StackName"], timeout=left)
        for page in self.cfn.get_paginator("describe_stacks").paginate():
            for raw in page["Stacks"]:
                if raw["StackStatus"] != GONE:
                    yield _info(raw)

    def failure_reason(self, name: str) -> str:
        try:
            events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
        except Exception:  # the reason is best effort; the failure itself is reported anyway
            return ""
        reasons = [
            f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}"
            for e in events
            if e.get("ResourceStatus", "").endswith("FAILED") and e.get("ResourceStatusReason")
        ]
        return "; ".join(reversed(reasons[:3]))

    def status(self, name: str) -> str | None:
        """The live stack's status, or None when there is none."""
        summary = self._summary(name)
        return None if summary is None else str(summary["StackStatus"])

    def _summary(self, name: str) -> Mapping[str, Any] | None:
        """The live stack's status and reason. On an emulator from `list_stacks`: moto
        evaluates a stack's outputs when describing it, and doing so while the stack is still
        being created makes it create resources a second time, outside the stack (they
        outlive its delete); a summary evaluates nothing. On AWS describing is safe, and one
        call instead of paging through every stack of the last 90 days on each poll."""
        if not self.emulated:
            return self._described(name)
        for page in self.cfn.get_paginator("list_stacks").paginate():
            for summary in page["StackSummaries"]:
                if summary["StackName"] == name and summary["StackStatus"] != GONE:
                    return dict(summary)
        return None

    def explain(self, operation: str, name: str, exc: BaseException) -> str:
        """Why `operation` on stack `name` failed, from everything that can say so: the HTTP
        answer, the stack's status and reason, its FAILED events, and for an emulator where
        its full reason is. Best effort: a query that fails only leaves its part out."""
        status, body = self._answers.get(operation, (0, b""))
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            status = status or int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            error = response.get("Error") or {}
            detail = ": ".join(str(error[k]) for k in ("Code", "Message") if error.get(k))
        else:
            detail = first_line(body, status)
        parts = [f"{operation} failed" + (f" with HTTP {status}" if status else "")]
        parts[0] += f": {detail or _short(exc)}"
        try:
            summary = self._summary(name)
        except Exception:  # the endpoint may be down altogether
            summary = None
        if summary is not None:
            reason = summary.get("StackStatusReason")
            parts.append(f"stack {summary['StackStatus']}" + (f" ({reason})" if reason else ""))
        failed = self.failure_reason(name)
        if failed:
            parts.append(f"failed resources: {failed}")
        if self.emulated and self._server_failed(operation, exc):
            parts.append(
                f"the emulator at {self.cfn.meta.endpoint_url} failed inside {operation}: "
                "its log has the full reason (for moto, the traceback in the server's output)"
            )
        return "; ".join(parts)

    def _server_failed(self, operation: str, exc: BaseException) -> bool:
        """Did the endpoint itself fail (HTTP 5xx), rather than refuse the request?"""
        status = self._answers.get(operation, (0, b""))[0]
        response = getattr(exc, "response", None)
        if not status and isinstance(response, dict):
            status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return status >= 500

    def wait_stable(self, name: str, timeout: float | None = None) -> StackInfo | None:
        """Poll until the stack leaves *_IN_PROGRESS (backoff 0.2 s .. 5 s), or is gone."""
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        delay = 0.2
        while True:
            status = self.status(name)
            if status is None:
                return None
            if status not in BUSY and not status.endswith("_IN_PROGRESS"):
                return self.describe(name)
            if time.monotonic() > deadline:
                if timeout is not None:
                    return self.describe(name)
                raise DeployError(f"stack {name} still {status} after {limit:.0f}s")
            self.sleep(delay)
            delay = min(delay * 1.5, 5.0)

    # -- deploy / delete ----------------------------------------------------------------
    def deploy(self, spec: StackSpec) -> dict[str, str]:
        """Create the stack (or adopt the same run's leftover) and return its outputs."""
        PROCESS.deployed = True
        body = json.dumps(spec.template, sort_keys=True)
        params = dict(spec.parameters)
        needs_bucket = ASSET_BUCKET_PARAM in (spec.template.get("Parameters") or {})
        if spec.assets or needs_bucket or len(body) > MAX_BODY:
            bucket = self.upload(spec.assets)
            if needs_bucket:
                params.setdefault(ASSET_BUCKET_PARAM, bucket)
        source = self._template_source(spec.name, body)
        # a dead worker's create may still be running: let it settle, but not forever
        existing = self.wait_stable(spec.name, timeout=self.stuck_after)
        if existing is not None:
            run = spec.tags.get(RUN_TAG)
            if run and existing.tags.get(RUN_TAG) != run:
                raise DeployError(
                    f"stack {spec.name} exists and belongs to run "
                    f"{existing.tags.get(RUN_TAG)!r}, not {run!r}: refusing to touch it"
                )
            if existing.status in STABLE_OK:
                log.info("adopting %s (%s) left by an earlier worker", spec.name, existing.status)
                return self._update(spec, source, params)
            log.info("replacing %s (%s)", spec.name, existing.status)
            self.delete(spec.name, wait=True, settle=0)  # it just had stuck_after to settle
        return self._create(spec, source, params)

    def _template_source(self, name: str, body: str) -> dict[str, str]:
        if len(body) <= MAX_BODY:
            return {"TemplateBody": body}
        digest = hashlib.sha256(body.encode()).hexdigest()[:16]
        key = f"templates/{name}-{digest}.json"
        bucket = self.asset_bucket()
        self.s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
        return {"TemplateURL": f"{self.s3.meta.endpoint_url.rstrip('/')}/{bucket}/{key}"}

    def _common(
        self, spec: StackSpec, source: dict[str, str], params: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "StackName": spec.name,
            **source,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
            "Tags": [{"Key": k, "Value": v} for k, v in spec.tags.items()],
            "Capabilities": CAPABILITIES,
        }

    def _create(
        self, spec: StackSpec, source: dict[str, str], params: dict[str, str]
    ) -> dict[str, str]:
        self._answers.clear()
        try:
            self.cfn.create_stack(**self._common(spec, source, params))
        except Exception as exc:
            reason = self.explain("CreateStack", spec.name, exc)
            self._cleanup_failed(spec.name)
            if self.emulated and self._server_failed("CreateStack", exc):
                self._remove_named(spec)
            raise DeployError(f"deploy of stack {spec.name} failed: {reason}") from exc
        try:
            info = self.wait_stable(spec.name)
        except Exception as exc:
            self._cleanup_failed(spec.name)
            raise DeployError(f"deploy of stack {spec.name} failed: {_short(exc)}") from exc
        if info is None or info.status != "CREATE_COMPLETE":
            summary = self._summary(spec.name) or {}
            why = summary.get("StackStatusReason")
            reason = "; ".join(r for r in (why, self.failure_reason(spec.name)) if r)
            status = info.status if info else "deleted"
            self._cleanup_failed(spec.name)
            raise DeployError(
                f"deploy of stack {spec.name} ended {status}: {reason or 'no reason given'}"
            )
        self._check_nothing_skipped(spec)
        return dict(info.outputs)

    def _check_nothing_skipped(self, spec: StackSpec) -> None:
        """A resource of the template the target did not create is a failed deploy, unless
        its type is allowed: tests against half a stack fail later, and for the wrong reason."""
        created = self._listed(spec.name)
        resources = spec.template.get("Resources") or {}
        skipped = {
            logical: str(body.get("Type"))
            for logical, body in resources.items()
            if logical not in created and isinstance(body, dict) and "Condition" not in body
        }
        allowed = (*ALWAYS_SKIPPABLE, *spec.allow_skipped)
        refused = {k: t for k, t in skipped.items() if not any(fnmatchcase(t, p) for p in allowed)}
        for logical, type_ in sorted(skipped.items()):
            if logical not in refused:
                log.warning("%s: %s (%s) was not created (allowed)", spec.name, logical, type_)
        if refused:
            self._cleanup_failed(spec.name)
            listed = ", ".join(f"{k} ({t})" for k, t in sorted(refused.items()))
            raise DeployError(
                f"deploy of stack {spec.name}: the target did not create {listed}; it does not "
                "support these types. If the feature's tests can run without them, allow them: "
                '`allow_skipped = ("AWS::AppConfig::*",)` on the stack class, or the ini '
                "option steward_e2e_allow_skipped"
            )

    def _listed(self, name: str) -> set[str]:
        """Logical ids CloudFormation lists for the stack, with or without a physical id."""
        return {
            r["LogicalResourceId"]
            for page in self.cfn.get_paginator("list_stack_resources").paginate(StackName=name)
            for r in page.get("StackResourceSummaries", [])
        }

    def _update(
        self, spec: StackSpec, source: dict[str, str], params: dict[str, str]
    ) -> dict[str, str]:
        from botocore.exceptions import ClientError

        self._answers.pop("UpdateStack", None)
        try:
            self.cfn.update_stack(**self._common(spec, source, params))
        except ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                reason = self.explain("UpdateStack", spec.name, exc)
                raise DeployError(f"update of stack {spec.name} failed: {reason}") from exc
        except Exception as exc:  # an emulator's crash: a response botocore cannot parse
            reason = self.explain("UpdateStack", spec.name, exc)
            raise DeployError(f"update of stack {spec.name} failed: {reason}") from exc
        info = self.wait_stable(spec.name)
        if info is None or info.status not in STABLE_OK:
            raise DeployError(
                f"update of stack {spec.name} ended {info.status if info else 'deleted'}"
            )
        return dict(info.outputs)

    def _cleanup_failed(self, name: str) -> None:
        try:
            self.delete(name, wait=True, settle=0)  # the create's request is over
        except Exception as exc:  # the deploy error matters more; the sweep retries the delete
            log.warning("could not delete failed stack %s: %s", name, exc)

    def delete(self, name: str, *, wait: bool = False, settle: float | None = None) -> None:
        """Delete a stack; absent is fine. With wait, retry once on DELETE_FAILED and check
        that its resources went with it; without, `settle()` does that later. A create in
        flight gets `settle` seconds (default `settle_before_delete`) to finish first."""
        for _ in range(2):
            resources = self._begin_delete(
                name, self.settle_before_delete if settle is None else settle
            )
            if resources is None:
                return
            if not wait:
                self.pending[name] = resources
                return
            info = self.wait_stable(name)
            if info is None:
                self._verify(name, resources)
                return
        raise DeployError(f"stack {name} could not be deleted: {self.failure_reason(name)}")

    def _begin_delete(self, name: str, settle: float) -> list[Resource] | None:
        """Let a create or update in flight finish first (deleting mid-create races it: what it
        creates afterwards outlives the stack), note the resources, ask for the delete."""
        status = self.status(name)
        if status in BUSY and settle > 0 and self.emulated:
            # moto runs a create inside the request: one in flight ends within seconds, and
            # one whose request failed stays CREATE_IN_PROGRESS forever, hence the bound.
            # CloudFormation itself cancels a create that a delete interrupts.
            self.wait_stable(name, timeout=settle)
            status = self.status(name)
        if status is None:
            return None
        resources = self._resources(name)
        self._answers.pop("DeleteStack", None)
        try:
            self.cfn.delete_stack(StackName=name)
        except Exception as exc:
            if not self._server_failed("DeleteStack", exc):
                raise
            reason = self.explain("DeleteStack", name, exc)
            raise DeployError(f"delete of stack {name} failed: {reason}") from exc
        return resources

    def _remove_named(self, spec: StackSpec) -> None:
        """After an emulator crashed inside CreateStack: remove what the template names
        literally and the emulator created before crashing, outside the stack's books (moto
        stores an SSM parameter, then fails on its tags, and its delete never sees it).
        Emulator only: on AWS, CloudFormation rolls back what it created itself."""
        named = [
            Resource(str(body["Type"]), props[NAME_PROPERTY[body["Type"]]], logical)
            for logical, body in (spec.template.get("Resources") or {}).items()
            if isinstance(body, dict)
            and body.get("Type") in NAME_PROPERTY
            and isinstance(props := body.get("Properties") or {}, dict)
            and isinstance(props.get(NAME_PROPERTY[body["Type"]]), str)
        ]
        try:
            left = self.verifier.leftovers(named)
        except Exception as exc:  # extra safety only; the deploy error is what matters
            log.warning("could not check what %s left: %s", spec.name, exc)
            return
        for error in self._delete_leftovers(
            left, f"{spec.name}: the emulator crashed creating it and left"
        ):
            log.warning("%s: %s", spec.name, error)

    def _verify(self, name: str, resources: list[Resource]) -> None:
        left = self.verifier.leftovers(resources)
        errors = self._delete_leftovers(left, f"stack {name} is gone but these remain:")
        if errors:
            raise DeployError(f"stack {name}: resources left behind: {'; '.join(errors)}")

    def _delete_leftovers(self, left: list[Resource], why: str) -> list[str]:
        """Delete resources found left behind, say so, remember them for the run's summary;
        the errors of those that could not be deleted."""
        if not left:
            return []
        names = ", ".join(f"{r.type} {r.physical_id}" for r in left)
        log.warning("%s %s; deleting them", why, names)
        self.leftovers.extend(left)
        return self.verifier.remove(left)

    def settle(self) -> None:
        """Wait for the deletes `delete(wait=False)` started, and check their resources."""
        errors = []
        for name, resources in list(self.pending.items()):
            try:
                if self.wait_stable(name) is None:
                    self._verify(name, resources)
                else:
                    self.delete(name, wait=True)
            except DeployError as exc:
                errors.append(str(exc))
            self.pending.pop(name, None)
        if errors:
            raise DeployError("; ".join(errors))

    def sweep(self, predicate: Callable[[StackInfo], bool]) -> list[str]:
        """Delete every live stack matching `predicate` and wait for all of them to go.

        Returns the names it had to delete; stacks already being deleted (a worker's
        feature-boundary teardown) are only waited for. Each stack's resources are checked
        once it is gone.
        """
        matching = [s for s in self.stacks() if predicate(s)]
        doomed = [s.name for s in matching if s.status != "DELETE_IN_PROGRESS"]
        for name in doomed:
            resources = self._begin_delete(name, self.settle_before_delete)
            if resources is not None:
                self.pending[name] = resources
        for stack in matching:
            if stack.status == "DELETE_IN_PROGRESS" and stack.name not in self.pending:
                self.pending[stack.name] = self._resources(stack.name)
        self.settle()
        return doomed

    def _resources(self, name: str) -> list[Resource]:
        """The stack's resources to check after its delete; none when they cannot be listed
        (gone meanwhile, or a failing endpoint): the check is extra safety, the delete is not."""
        try:
            return stack_resources(self.cfn, name)
        except Exception as exc:
            log.warning("could not list the resources of %s: %s", name, exc)
            return []


@dataclass
class _Process:
    """What this process deployed, whoever asked (the plugin or a project's own conftest,
    as Powertools' per-feature conftests do): so the session knows to settle and sweep."""

    deployed: bool = False
    deployers: weakref.WeakSet[CloudFormationDeployer] = field(default_factory=weakref.WeakSet)

    def settle(self) -> list[Resource]:
        """Finish every delete started without waiting; the resources found left behind."""
        errors, left = [], []
        for deployer in list(self.deployers):
            try:
                deployer.settle()
            except DeployError as exc:
                errors.append(str(exc))
            left.extend(deployer.leftovers)
        if errors:
            raise DeployError("; ".join(errors))
        return left


PROCESS = _Process()


def run_predicate(run_id: str) -> Callable[[StackInfo], bool]:
    return lambda s: s.tags.get(RUN_TAG) == run_id


def first_line(body: bytes, status: int = 0) -> str:
    """The first line of an error body that says something: tags stripped, and not just
    the status's own words (an HTML error page's title and heading repeat them)."""
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = ""
    text = body.decode("utf-8", "replace")
    for raw in text.splitlines():
        line = html.unescape(re.sub(r"<[^>]*>", " ", raw)).strip()
        line = " ".join(line.split())
        if not line or line.lower() in {phrase, f"{status} {phrase}"}:
            continue
        return line[:300]
    return ""


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:500]
