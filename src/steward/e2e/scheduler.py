"""An xdist scheduler whose unit of distribution is the feature (a folder with infrastructure.py).

`--dist loadgroup` does not keep groups together with pytest 9.2 / pytest-xdist 3.8, so the
plugin installs this scheduler instead: every test of a feature goes to the same worker,
which deploys the feature's stack once. Tests outside any feature are grouped by module, as
`--dist loadscope` would.

A worker that dies (`os._exit`, a segfault, the OOM killer) is handled here, not by
`LoadScopeScheduling.remove_node`: that one puts the dead worker's whole work unit back in
the queue, the test it died on included, so a test that kills its worker every time is run
(and reported failed) by each replacement worker until xdist's restart budget is spent, and
the rest of its feature never runs. Here the test it died on counts as done (xdist reports it
failed, once), and only the tests that never started go back, at the head of the queue: the
next worker takes them and adopts the feature's stack (see `CloudFormationDeployer.deploy`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

# After this many workers died inside one feature, its tests that have not run are reported
# skipped instead of being handed to yet another worker: a feature whose deploy kills its
# worker every time must not use up xdist's restart budget (4 per worker) and stop the session.
MAX_CRASHES_PER_SCOPE = 2


# With --e2e-spread a feature's first tests stay together (the worker that runs them deploys
# the stack); the rest may go to any worker once the first has finished. Two, not one: an
# xdist worker runs a test only once it knows the next one, so a lone first test would wait
# for work that waits for it.
DEPLOY_UNIT = 2
SPREAD_SEP = "::steward-spread::"


class FeatureScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """LoadScopeScheduling keyed by feature: `scope_of(nodeid)` names the group.

    `spread(scope)` says which features may spread over workers after their deploy;
    `on_feature_done(scope)` is called once every test of a spread feature has finished,
    so the controller can delete its stack (no single worker knows when that is).
    """

    def __init__(
        self,
        config: Any,
        log: Any = None,
        *,
        scope_of: Callable[[str], str | None],
        max_crashes: int = MAX_CRASHES_PER_SCOPE,
        spread: Callable[[str], bool] = lambda scope: False,
        on_feature_done: Callable[[str], None] = lambda scope: None,
    ) -> None:
        super().__init__(config, log)
        self._scope_of = scope_of
        self.max_crashes = max_crashes
        self.crashes: dict[str, list[str]] = {}  # scope -> the tests its workers died on
        self._spread = spread
        self._on_feature_done = on_feature_done
        self._scopes: dict[str, str] = {}  # nodeid -> its work unit (first call decides)
        self._feature_tests: dict[str, list[str]] = {}  # spread feature -> its tests, in order
        self._feature_of: dict[str, str] = {}  # nodeid -> its spread feature
        self._held: set[str] = set()  # spread features whose first test has not finished
        self._left: dict[str, int] = {}  # spread feature -> tests not finished

    def _split_scope(self, nodeid: str) -> str:
        """The work unit of a test; `schedule()` asks in collection order first, so a
        spread feature's first DEPLOY_UNIT tests share the feature's unit."""
        if nodeid in self._scopes:
            return self._scopes[nodeid]
        scope = self._scope_of(nodeid)
        if scope is None:
            unit = nodeid.rsplit("::", 1)[0]
        elif not self._spread(scope):
            unit = scope
        else:
            tests = self._feature_tests.setdefault(scope, [])
            tests.append(nodeid)
            self._feature_of[nodeid] = scope
            self._left[scope] = self._left.get(scope, 0) + 1
            if len(tests) <= DEPLOY_UNIT:
                unit = scope
            else:
                unit = f"{scope}{SPREAD_SEP}{nodeid}"
                self._held.add(scope)
        self._scopes[nodeid] = unit
        return unit

    def _ready(self, unit: str) -> bool:
        feature, sep, _ = unit.partition(SPREAD_SEP)
        return not sep or feature not in self._held

    def _assign_work_unit(self, node: Any) -> None:
        """The first unit that may run now: a spread test waits for its feature's deploy."""
        ready = next((unit for unit in self.workqueue if self._ready(unit)), None)
        if ready is None:
            return  # the node idles until a deploy finishes (see `_finished`)
        self.workqueue.move_to_end(ready, last=False)
        super()._assign_work_unit(node)

    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        nodeid = self.registered_collections[node][item_index]
        super().mark_test_complete(node, item_index, duration)
        self._finished(nodeid)

    def _finished(self, nodeid: str) -> None:
        feature = self._feature_of.get(nodeid)
        if feature is None:
            return
        if feature in self._held and nodeid == self._feature_tests[feature][0]:
            self._held.discard(feature)  # deployed (or failed to): the rest may spread
            for node in list(self.assigned_work):
                self._reschedule(node)
        self._left[feature] -= 1
        if self._left[feature] == 0:
            self._on_feature_done(feature)

    def remove_node(self, node: Any) -> str | None:
        """Forget a worker; when it died with tests pending, return the test it died on.

        Called by the dsession at a worker's normal shutdown (nothing pending: None) and when
        it died; the dsession reports the returned test as failed. The worker ran its tests
        in the order they were assigned, so that test is the first one not completed.
        """
        workload: dict[str, dict[str, bool]] = self.assigned_work.pop(node)
        pending = [
            (scope, nodeid)
            for scope, unit in workload.items()
            for nodeid, completed in unit.items()
            if not completed
        ]
        if not pending:
            return None
        crash_scope, crashitem = pending[0]
        crash_scope = crash_scope.partition(SPREAD_SEP)[0]
        crashes = self.crashes.setdefault(crash_scope, [])
        crashes.append(crashitem)

        requeue: dict[str, dict[str, bool]] = {}
        self._finished(crashitem)  # reported failed by the dsession: it is done
        for scope, nodeid in pending[1:]:
            if scope.partition(SPREAD_SEP)[0] == crash_scope and len(crashes) >= self.max_crashes:
                self._report_not_run(node, nodeid, crash_scope)
                self._finished(nodeid)
            else:
                requeue.setdefault(scope, {})[nodeid] = False
        # at the head of the queue, in their order: the stack the dead worker deployed is
        # adopted (and torn down) as soon as possible
        for scope in reversed(requeue):
            self.workqueue[scope] = requeue[scope]
            self.workqueue.move_to_end(scope, last=False)
        for other in self.assigned_work:
            self._reschedule(other)
        return crashitem

    def _reschedule(self, node: Any) -> None:
        # A replacement worker is in `assigned_work` from its start, but it can take work
        # only once its collection is in: LoadScopeScheduling would look its collection up
        # and raise KeyError, which the dsession takes for "unknown node" and then never
        # reports the crash. `schedule()` gives the new worker its share when it is ready.
        if node in self.registered_collections:
            super()._reschedule(node)

    def _report_not_run(self, node: Any, nodeid: str, scope: str) -> None:
        fspath = nodeid.split("::", maxsplit=1)[0]
        died_on = ", ".join(self.crashes[scope])
        reason = (
            f"Skipped: {len(self.crashes[scope])} workers died in {scope} "
            f"(on {died_on}); its other tests are not run"
        )
        report = pytest.TestReport(
            nodeid=nodeid,
            location=(fspath, None, fspath),
            keywords={},
            outcome="skipped",
            longrepr=(fspath, None, reason),  # type: ignore[arg-type]  # no line: never ran
            when="setup",
        )
        report.node = node  # type: ignore[attr-defined]  # what xdist's reports carry
        self.config.hook.pytest_runtest_logreport(report=report)
