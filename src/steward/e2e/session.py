"""The active E2E plugin: deploy each feature once, tear it down at the feature's boundary.

Why not a `scope="package"` fixture: declared in a plugin, it behaves as session scope, so
stacks would live until the very end. Instead the `infrastructure` fixture deploys on the
first test of a feature (per worker process), and `pytest_runtest_teardown` deletes the
stack when the next test belongs to another feature or there is none. Whatever is left
(Ctrl-C, a worker that died) is swept by run-id tag when the session ends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from steward.e2e.deployer import PROCESS, CloudFormationDeployer, run_predicate
from steward.e2e.infrastructure import (
    ALLOW_SKIPPED_ENV,
    DEPLOYER_ENV,
    PREFIX_ENV,
    RUN_ENV,
    BaseInfrastructure,
    DeployContext,
)
from steward.e2e.naming import feature_dir, new_run_id
from steward.workspace import Workspace

log = logging.getLogger(__name__)
ENDPOINT_ENV = "AWS_ENDPOINT_URL"
SPREAD_WAIT = 1800.0  # a spread test waits at most this long for its feature's stack
WORKER_KEY = "steward_e2e_run_id"
DEPLOYED_KEY = "steward_e2e_deployed"
LEFTOVERS_KEY = "steward_e2e_leftovers"
ERROR_KEY = "steward_e2e_error"


@dataclass
class FeatureState:
    first_nodeid: str
    stack: BaseInfrastructure | None = None
    outputs: dict[str, str] | None = None
    error: BaseException | None = None


def _to_the_end(step: Callable[[], None]) -> bool:
    """Run a cleanup step; when Ctrl-C interrupts it, run it again (deletes and waits are
    idempotent) and say so. A second Ctrl-C during the rerun abandons it: the controller's
    sweep, or `steward e2e janitor`, deletes what is left."""
    try:
        step()
    except KeyboardInterrupt:
        log.warning("steward-e2e: Ctrl-C during cleanup: finishing it (again to abandon)")
        step()
        return True
    return False


def _shared_dir(config: pytest.Config, is_worker: bool) -> Path:
    """The folder the controller and every worker of this session see (`call_once`'s)."""
    from steward.e2e.once import shared_root

    factory = config._tmp_path_factory  # type: ignore[attr-defined]
    return shared_root(factory.getbasetemp(), under_xdist=is_worker)


class SharedOutputs:
    """Spread features' stacks, as their deploying worker saw them: one JSON file each."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, scope: str) -> Path:
        digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
        return self.root / f"steward-e2e-stack-{digest}.json"

    def write(self, scope: str, state: FeatureState) -> None:
        entry: dict[str, Any] = {"scope": scope, "first": state.first_nodeid}
        if state.stack is not None:
            entry["stack"] = state.stack.stack_name
        if state.error is not None or state.outputs is None:
            entry["error"] = str(state.error)[:2000]
        else:
            entry["outputs"] = state.outputs
        path = self._path(scope)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        tmp.replace(path)

    def read(self, scope: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(scope).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def wait(self, scope: str, *, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        delay = 0.05
        while (entry := self.read(scope)) is None and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)
        return entry


class E2EPlugin:
    """Registered by steward.e2e.plugin once a project opts in."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.root = config.rootpath
        workerinput = getattr(config, "workerinput", None)
        self.is_worker = workerinput is not None
        if workerinput is not None:
            self.run_id = str(workerinput[WORKER_KEY])
        else:
            self.run_id = config.getoption("e2e_run_id") or os.environ.get(RUN_ENV) or new_run_id()
        self.prefix = str(config.getini("steward_e2e_prefix"))
        self.mode = config.getoption("e2e_deployer") or str(config.getini("steward_e2e_deployer"))
        self.keep = bool(config.getoption("e2e_keep"))
        # An ini setting of the project: a directory inside it (`steward.workspace`).
        self.build_dir = Workspace(self.root).config_path(
            str(config.getini("steward_e2e_build_dir")),
            "steward_e2e_build_dir",
            kind="dir",
            must_exist=False,
        )
        # hand-written conftests (`MyStack().deploy()`) pick these up through DeployContext
        os.environ[RUN_ENV] = self.run_id
        os.environ[PREFIX_ENV] = self.prefix
        os.environ[DEPLOYER_ENV] = self.mode
        self.allow_skipped = tuple(config.getini("steward_e2e_allow_skipped"))
        os.environ[ALLOW_SKIPPED_ENV] = ",".join(self.allow_skipped)
        self.features: dict[Path, FeatureState] = {}
        spread = config.getoption("e2e_spread")
        self.spread = bool(
            (config.getini("steward_e2e_spread") if spread is None else spread)
            and (self.is_worker or config.getoption("dist", "no") != "no")  # xdist only
        )
        self.deploy_units: set[str] = set()  # spread: nodeids whose worker deploys the stack
        self._spreads: dict[str, bool] = {}  # feature scope -> may it spread
        self._shared: SharedOutputs | None = None
        self.local_runtime = self._local_runtime(
            config.getoption("e2e_local") or str(config.getini("steward_e2e_local"))
        )
        self._dirs: dict[Path, Path | None] = {}
        self.deployed_any = False  # controller: skip the sweep when nothing could have deployed
        self.swept: list[str] = []
        self.leftovers: list[str] = []  # resources that outlived DELETE_COMPLETE (then deleted)
        self.sweep_error: str | None = None
        self._sweeper: Future[CloudFormationDeployer] | None = None

    def _local_runtime(self, mode: str) -> Any:
        """On moto (or when asked), invokes run the deployed handler here: attached to boto3's
        default session before any test makes a client, in controller and workers alike."""
        from steward.e2e.local_runtime import LocalRuntime, is_emulator

        if mode not in {"auto", "on", "off"}:
            raise pytest.UsageError(f"steward_e2e_local must be auto, on or off, not {mode!r}")
        if mode == "off" or (mode == "auto" and not is_emulator(os.environ.get(ENDPOINT_ENV))):
            return None
        runtime = LocalRuntime(self.build_dir / "lambda-cache")  # shared; locked per digest
        runtime.attach_default_session()
        return runtime

    # -- feature lookup -------------------------------------------------------------------
    def feature_of(self, path: Path) -> Path | None:
        folder = path.parent
        if folder not in self._dirs:
            self._dirs[folder] = feature_dir(folder, self.root)
        return self._dirs[folder]

    def scope_of_nodeid(self, nodeid: str) -> str | None:
        found = self.feature_of(self.root / nodeid.split("::", 1)[0])
        return None if found is None else self.scope(found)

    def scope(self, folder: Path) -> str:
        """A feature folder as the scheduler and the shared outputs name it: its path from
        the rootdir."""
        return folder.relative_to(self.root.resolve()).as_posix()

    # -- xdist (controller side) --------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_KEY] = self.run_id

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", None) or {}
        if error is not None or output.get(DEPLOYED_KEY, True):  # a dead worker may have deployed
            self.deployed_any = True
        self.leftovers += output.get(LEFTOVERS_KEY) or []
        if output.get(ERROR_KEY):
            self.sweep_error = "; ".join(filter(None, [self.sweep_error, output[ERROR_KEY]]))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """Ready the controller's sweep while the workers run: importing boto3 and building
        a client takes 0.5-0.8 s, which would otherwise come after the last test, when every
        worker is done (a serial run has it ready from its own deploys)."""
        if self._sweeper is not None or self.keep:
            return
        if any(self.scope_of_nodeid(nodeid) is not None for nodeid in ids):
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="steward-e2e-sweep")
            self._sweeper = pool.submit(CloudFormationDeployer)
            pool.shutdown(wait=False)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getvalue("dist") == "each":
            return None
        from steward.e2e.scheduler import FeatureScheduling

        return FeatureScheduling(
            config,
            log,
            scope_of=self.scope_of_nodeid,
            spread=self.spreads,
            on_feature_done=self._feature_done,
        )

    @property
    def shared(self) -> SharedOutputs:
        """Made on first use: pytest's temp-path factory does not exist at configure time."""
        if self._shared is None:
            self._shared = SharedOutputs(_shared_dir(self.config, self.is_worker))
        return self._shared

    def spreads(self, scope: str) -> bool:
        """Whether a feature (its path from the rootdir) may spread: asked for and safe. A
        feature whose conftest.py deploys its own stack (Powertools' do) deploys once per
        worker and deletes at its package end: spreading it would delete it under a test."""
        if not self.spread:
            return False
        if scope not in self._spreads:  # asked for every test: read each conftest once
            conftest = self.root / scope / "conftest.py"
            try:
                own_fixture = "def infrastructure" in conftest.read_text(encoding="utf-8")
            except OSError:
                own_fixture = False
            self._spreads[scope] = not own_fixture
        return self._spreads[scope]

    def _controller_deployer(self) -> CloudFormationDeployer:
        """The controller's one deployer: made while the workers ran (`_sweeper`), else now;
        the spread features' deletes and the sweep share it, and its pending deletes."""
        if self._sweeper is None:
            done: Future[CloudFormationDeployer] = Future()
            done.set_result(CloudFormationDeployer())
            self._sweeper = done
        return self._sweeper.result()

    def _feature_done(self, scope: str) -> None:
        """Controller, spread features: every test has run, so the stack can go now."""
        if self.keep:
            return
        entry = self.shared.read(scope)
        if entry is None or "stack" not in entry:
            return  # never deployed, or the deploy failed (and cleaned up after itself)
        try:
            deployer = self._controller_deployer()
            deployer.delete(str(entry["stack"]), wait=False)  # the end-of-session sweep waits
        except Exception as exc:  # the sweep at the end retries it
            log.warning("delete of %s failed: %s", entry["stack"], exc)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Spread features: the first tests of each (the scheduler's deploy unit) deploy;
        every other test reads the outputs the deploying worker shared."""
        if not self.spread:
            return
        from steward.e2e.scheduler import DEPLOY_UNIT

        seen: dict[Path, int] = {}
        for item in items:
            folder = self.feature_of(item.path)
            if folder is None:
                continue
            seen[folder] = seen.get(folder, 0) + 1
            if seen[folder] <= DEPLOY_UNIT:
                self.deploy_units.add(item.nodeid)

    # -- the infrastructure fixture (steward.e2e.fixtures) ------------------------------
    def outputs_for(self, item: pytest.Item, layer_zip: Path | None = None) -> dict[str, str]:
        folder = self.feature_of(item.path)
        if folder is None:
            pytest.fail(
                f"{item.nodeid}: `infrastructure` needs the test inside a feature folder "
                "(one holding infrastructure.py)",
                pytrace=False,
            )
        scope = self.scope(folder)
        spread = self.spreads(scope)
        state = self.features.get(folder)
        if state is None and spread and item.nodeid not in self.deploy_units:
            return self._shared_outputs(scope, item)
        if state is None:
            state = self.features[folder] = FeatureState(first_nodeid=item.nodeid)
            try:
                self._deploy(folder, state, layer_zip)  # the first test reports a failure
            finally:
                if spread:
                    self.shared.write(scope, state)
        if state.error is not None:
            pytest.skip(f"deploy of feature {folder.name} failed; reported on {state.first_nodeid}")
        assert state.outputs is not None
        return state.outputs

    def _shared_outputs(self, scope: str, item: pytest.Item) -> dict[str, str]:
        entry = self.shared.wait(scope, timeout=SPREAD_WAIT)
        if entry is None:
            pytest.fail(f"{item.nodeid}: the stack of {scope} was not up after {SPREAD_WAIT:.0f}s")
        if "error" in entry:
            pytest.skip(f"deploy of feature {scope} failed; reported on {entry['first']}")
        return dict(entry["outputs"])

    def _deploy(self, folder: Path, state: FeatureState, layer_zip: Path | None) -> None:
        from steward.e2e.features import stack_class

        self.deployed_any = True
        try:
            context = DeployContext(
                run_id=self.run_id,
                prefix=self.prefix,
                layer_zip=layer_zip,
                allow_skipped=self.allow_skipped,
            )
            stack = stack_class(folder)(context=context)
            state.stack = stack
            state.outputs = stack.deploy()
        except BaseException as exc:
            state.error = exc
            raise

    def deploys_here(self, item: pytest.Item) -> bool:
        """Spread features deploy on their first test even when it takes no `infrastructure`:
        the tests spread to other workers wait for its outputs."""
        if not (self.spread and item.nodeid in self.deploy_units):
            return False
        folder = self.feature_of(item.path)
        return folder is not None and folder not in self.features

    # -- teardown at the feature boundary -------------------------------------------------
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        try:
            return (yield)
        finally:
            folder = self.feature_of(item.path)
            if (
                folder in self.features
                and (nextitem is None or self.feature_of(nextitem.path) != folder)
                and not self.spreads(self.scope(folder))
            ):  # a spread feature's stack goes when the controller says (`_feature_done`)
                state = self.features[folder]
                interrupted = _to_the_end(lambda: self._teardown(state))
                del self.features[folder]  # only once its delete was asked for
                if interrupted:
                    raise KeyboardInterrupt  # the delete is in; now stop as asked

    def _teardown(self, state: FeatureState) -> None:
        if state.stack is None or self.keep:
            return
        state.stack.delete(wait=False)  # the end-of-session sweep waits for it

    # -- end of session: own stacks first, then (controller) the whole run ---------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.keep:
            return
        # Ctrl-C may land anywhere in here (SIGINT goes to every process of the group, and a
        # user presses it while waiting): each step then runs again, to the end
        for state in list(self.features.values()):  # Ctrl-C or an aborted session
            _to_the_end(partial(self._teardown_logged, state))
        self.features.clear()
        self.deployed_any = self.deployed_any or PROCESS.deployed
        _to_the_end(self._settle)
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[DEPLOYED_KEY] = self.deployed_any
            workeroutput[LEFTOVERS_KEY] = self.leftovers
            workeroutput[ERROR_KEY] = self.sweep_error
        if self.is_worker or not self.deployed_any:
            return
        _to_the_end(self._sweep)
        if self.sweep_error:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _teardown_logged(self, state: FeatureState) -> None:
        try:
            self._teardown(state)
        except Exception as exc:
            log.warning("delete of %s failed: %s", state.first_nodeid, exc)

    def _settle(self) -> None:
        """This process's own deletes: wait for them, check nothing outlived them."""
        try:
            self.leftovers = [f"{r.type} {r.physical_id}" for r in PROCESS.settle()]
        except Exception as exc:
            self.sweep_error = str(exc)

    def _sweep(self) -> None:
        """Controller: every stack of the run, whoever deployed it."""
        try:
            deployer = self._controller_deployer()
            self.swept = deployer.sweep(run_predicate(self.run_id))
            self.leftovers += [f"{r.type} {r.physical_id}" for r in deployer.leftovers]
        except Exception as exc:  # DeployError or AWS access: report, do not crash pytest
            self.sweep_error = str(exc)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker:
            return
        tr = terminalreporter
        if self.local_runtime is not None:
            tr.write_line("steward-e2e: Lambda handlers ran locally (moto has no Lambda runtime)")
        if self.sweep_error:
            tr.write_line(
                f"steward-e2e: sweep of run {self.run_id} failed: {self.sweep_error}", red=True
            )
            tr.write_line("steward-e2e: run `steward e2e janitor` to delete leftovers", red=True)
        elif not self.deployed_any:
            return
        elif self.keep:
            tr.write_line(f"steward-e2e: run {self.run_id}: stacks kept (--e2e-keep)")
        else:
            extra = f", swept {len(self.swept)} left behind" if self.swept else ""
            tr.write_line(f"steward-e2e: run {self.run_id}: no stacks left{extra}")
        if self.leftovers:
            tr.write_line(
                f"steward-e2e: {len(self.leftovers)} resource(s) outlived their stack and were "
                "deleted directly: " + ", ".join(self.leftovers),
                yellow=True,
            )
