"""Naming, feature discovery, stack-class loading, grouping, and the plugin staying inert."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from steward.e2e.features import stack_class
from steward.e2e.infrastructure import BaseInfrastructure, DeployContext
from steward.e2e.naming import feature_dir, pascal_case, python_tag, stack_name
from steward.errors import UsageError


def test_the_plugin_is_inert_in_a_suite_that_did_not_opt_in(request: pytest.FixtureRequest) -> None:
    # steward's own suite loads the entry point but never says steward_e2e = true
    pm = request.config.pluginmanager
    assert pm.has_plugin("steward_e2e")  # the entry point is registered ...
    assert not pm.has_plugin("steward-e2e-session")  # ... and did nothing else
    assert "infrastructure" not in request.fixturenames
    assert "steward.e2e.session" not in sys.modules


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("basic_handler", "BasicHandler"),
        ("cold_start", "ColdStart"),
        ("alb", "Alb"),
        ("async_capture2", "AsyncCapture2"),
        ("s3-event", "S3Event"),
    ],
)
def test_pascal_case(stem: str, expected: str) -> None:
    assert pascal_case(stem) == expected


def test_stack_name_carries_feature_python_and_run() -> None:
    assert (
        stack_name("steward-e2e", "event_handler", "ab12", "py311")
        == "steward-e2e-event-handler-py311-ab12"
    )
    assert stack_name("", "1st", "r", "py312") == "e2e-1st-py312-r"  # must start with a letter
    assert python_tag((3, 13)) == "py313"
    assert len(stack_name("p", "f" * 200, "r")) == 128


def test_feature_dir_is_the_nearest_folder_with_infrastructure(tmp_path: Path) -> None:
    feat = tmp_path / "tests" / "e2e" / "logger"
    (feat / "sub").mkdir(parents=True)
    (feat / "infrastructure.py").write_text("")
    assert feature_dir(feat / "sub", tmp_path) == feat.resolve()
    assert feature_dir(feat, tmp_path) == feat.resolve()
    assert feature_dir(tmp_path / "tests", tmp_path) is None
    assert feature_dir(Path("/"), tmp_path) is None  # outside the root: never walks past it


def _infra(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "infrastructure.py").write_text("from steward.e2e import BaseInfrastructure\n" + body)
    return folder


def test_stack_class_picks_the_one_leaf_subclass(tmp_path: Path) -> None:
    folder = _infra(
        tmp_path / "feat_a",
        "class Common(BaseInfrastructure):\n    pass\n"
        "class FeatStack(Common):\n    def create_resources(self): pass\n",
    )
    cls = stack_class(folder)
    assert cls.__name__ == "FeatStack"
    stack = cls(context=DeployContext(run_id="r1", python="py311"))
    assert stack.feature_name == "feat_a"
    assert stack.stack_name == "steward-e2e-feat-a-py311-r1"
    assert stack.tags["steward:e2e:run-id"] == "r1"


def test_stack_class_rejects_ambiguous_or_missing(tmp_path: Path) -> None:
    two = _infra(
        tmp_path / "two",
        "class A(BaseInfrastructure):\n    pass\nclass B(BaseInfrastructure):\n    pass\n",
    )
    with pytest.raises(
        UsageError, match=r"exactly one BaseInfrastructure subclass \(found: A, B\)"
    ):
        stack_class(two)
    none = _infra(tmp_path / "none", "X = 1\n")
    with pytest.raises(UsageError, match=r"\(found: none\)"):
        stack_class(none)


class NoHandlers(BaseInfrastructure):
    def create_resources(self) -> None:
        self.create_lambda_functions()


def test_template_lambda_functions_and_outputs(tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    for name in ("basic_handler", "cold_start", "_private"):
        (tmp_path / "handlers" / f"{name}.py").write_text("def lambda_handler(e, c): return e\n")
    stack = NoHandlers(context=DeployContext(run_id="r", python="py311"))
    stack.feature_path = tmp_path
    spec = stack.synthesize()
    resources: dict[str, Any] = spec.template["Resources"]
    assert sorted(k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function") == [
        "BasicHandler",
        "ColdStart",
    ]
    assert resources["ColdStart"]["Properties"]["Handler"] == "cold_start.lambda_handler"
    assert spec.template["Outputs"]["ColdStartArn"] == {
        "Value": {"Fn::GetAtt": ["ColdStart", "Arn"]}
    }
    assert spec.template["Parameters"] == {"AssetBucket": {"Type": "String"}}
    assert len(spec.assets) == 1  # one zip of handlers/ shared by both functions


def test_no_handlers_is_a_clear_error(tmp_path: Path) -> None:
    stack = NoHandlers(context=DeployContext(run_id="r"))
    stack.feature_path = tmp_path
    with pytest.raises(FileNotFoundError, match="no handlers in"):
        stack.synthesize()


def test_scheduler_groups_by_feature(tmp_path: Path) -> None:
    from xdist.scheduler import LoadScopeScheduling

    from steward.e2e.scheduler import FeatureScheduling

    class Config:
        # what parse_tx_spec_config reads from a `-n 2` run
        def getvalue(self, name: str) -> Any:
            return {"tx": ["popen", "popen"], "numprocesses": 2, "dist": "load"}.get(name)

        option = type(
            "O", (), {"numprocesses": 2, "tx": None, "dist": "load", "maxprocesses": None}
        )()

    def scope_of(nodeid: str) -> str | None:
        parts = nodeid.split("/")
        return "/".join(parts[:3]) if parts[1] == "e2e" else None

    sched = FeatureScheduling(Config(), scope_of=scope_of)
    assert isinstance(sched, LoadScopeScheduling)
    assert sched.numnodes == 2
    assert sched._split_scope("tests/e2e/logger/test_a.py::test_x") == "tests/e2e/logger"
    assert sched._split_scope("tests/e2e/logger/sub/test_b.py::C::test_y") == "tests/e2e/logger"
    assert sched._split_scope("tests/unit/test_c.py::test_z") == "tests/unit/test_c.py"


class _Node:
    """What the scheduler uses of xdist's WorkerController."""

    def __init__(self, name: str) -> None:
        self.gateway = type("Gateway", (), {"id": name})()
        self.sent: list[list[int]] = []
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.append(list(indices))

    def shutdown(self) -> None:
        self.shutting_down = True


def test_scheduler_hands_on_only_what_a_dead_worker_did_not_start() -> None:
    # the real crash is in test_worker_crash.py; this pins the bookkeeping step by step
    from types import SimpleNamespace

    from steward.e2e.scheduler import FeatureScheduling

    reports: list[Any] = []

    def logreport(report: Any) -> None:
        reports.append(report)

    class Config:
        option = SimpleNamespace(
            numprocesses=2, tx=None, dist="load", maxprocesses=None, loadscopereorder=False
        )
        hook = SimpleNamespace(pytest_runtest_logreport=logreport)

        def getvalue(self, name: str) -> Any:
            return {"tx": ["popen", "popen"], "numprocesses": 2, "dist": "load"}.get(name)

    feature = [f"e2e/f/test_f.py::t{i}" for i in range(1, 6)]
    other = ["e2e/g/test_g.py::u1", "e2e/g/test_g.py::u2"]
    collection = feature + other
    sched = FeatureScheduling(Config(), scope_of=lambda nodeid: nodeid.split("/test_")[0])
    gw0, gw1, gw2, gw3 = (_Node(f"gw{i}") for i in range(4))
    for node in (gw0, gw1):
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    assert gw0.sent == [[0, 1, 2, 3, 4]]  # the feature, whole
    assert gw1.sent == [[5, 6]]

    sched.mark_test_complete(gw0, 0)  # t1 done; gw0 dies running t2
    sched.add_node(gw2)  # its replacement starts: no collection yet, no work
    assert sched.remove_node(gw0) == feature[1]  # reported failed by xdist, once
    assert list(sched.workqueue.items()) == [("e2e/f", dict.fromkeys(feature[2:], False))]
    sched.add_node_collection(gw2, collection)
    sched.schedule()
    assert gw2.sent == [[2, 3, 4]]  # t3..t5 only: not t1 (done), not t2 (crashed)
    assert not sched.workqueue

    # the feature kills gw2 too: its second crash; t4 and t5 are reported, not handed on
    sched.add_node(gw3)
    sched.add_node_collection(gw3, collection)
    assert sched.remove_node(gw2) == feature[2]
    assert not sched.workqueue
    assert gw3.sent == []
    assert sched.crashes == {"e2e/f": [feature[1], feature[2]]}
    assert [(r.nodeid, r.outcome, r.when) for r in reports] == [
        (feature[3], "skipped", "setup"),
        (feature[4], "skipped", "setup"),
    ]
    assert "2 workers died in e2e/f" in reports[0].longrepr[2]

    # a worker that finished normally has nothing pending
    sched.mark_test_complete(gw1, 5)
    sched.mark_test_complete(gw1, 6)
    assert sched.remove_node(gw1) is None
    assert sched.tests_finished


@pytest.mark.parametrize(
    ("ini", "args", "active"),
    [
        ("", [], False),
        ("steward_e2e = true\n", [], True),
        ("", ["-p", "steward.e2e"], True),
        ("", ["--steward-e2e"], True),
    ],
)
def test_ways_to_opt_in(tmp_path: Path, ini: str, args: list[str], active: bool) -> None:
    import subprocess

    (tmp_path / "pytest.ini").write_text("[pytest]\n" + ini)
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert ("infrastructure" in result.stdout) is active
    assert ("e2e_run_id" in result.stdout) is active


@pytest.mark.parametrize("kind", ["directory", "device"])
def test_a_layer_zip_that_is_no_regular_file_is_refused_in_one_line(
    kind: str, tmp_path: Path
) -> None:
    """STEWARD_E2E_LAYER (or the plugin) naming a directory or a device is an input error,
    never an OSError traceback nor an empty or endless layer read into memory."""
    from steward.e2e.infrastructure import BaseInfrastructure, DeployContext
    from steward.errors import InputError

    class LayerStack(BaseInfrastructure):
        feature = "layered"

        def create_resources(self) -> None:
            self.create_lambda_functions()

    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "h.py").write_text("def lambda_handler(e, c):\n    return e\n")
    layer = tmp_path if kind == "directory" else Path("/dev/null")
    stack = LayerStack(context=DeployContext(run_id="r1", layer_zip=layer))
    stack.feature_path = tmp_path
    with pytest.raises(InputError) as err:
        stack.synthesize()
    assert "a layer zip is" in str(err.value)
    assert "not a regular file" in str(err.value)


@pytest.mark.parametrize("how", ["option", "ini", "off"])
def test_the_cdk_speed_settings_are_set_before_the_first_conftest(tmp_path: Path, how: str) -> None:
    """Powertools' infrastructure modules import aws_cdk when conftest imports them: the
    CDK's jsii process reads CDK_VALIDATION then, so the plugin sets it before any conftest
    loads (3.9 s -> 0.1 s of synth per feature in issue #18), and only when it is on."""
    import os
    import subprocess
    import sys

    (tmp_path / "conftest.py").write_text(
        "import os\n"
        "with open('seen.txt', 'w') as f:\n"
        "    f.write(os.environ.get('CDK_VALIDATION', '<unset>'))\n"
    )
    (tmp_path / "test_x.py").write_text("def test_ok():\n    assert True\n")
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_x.py"]
    if how == "option":
        args.append("--steward-e2e")
    if how == "ini":
        (tmp_path / "pytest.ini").write_text("[pytest]\nsteward_e2e = true\n")
    env = {k: v for k, v in os.environ.items() if k != "CDK_VALIDATION"}
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "seen.txt").read_text() == ("<unset>" if how == "off" else "false")


def test_a_cleanup_step_interrupted_by_ctrl_c_runs_again_to_the_end() -> None:
    from steward.e2e.session import _to_the_end

    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt

    assert _to_the_end(step) is True
    assert len(calls) == 2
    assert _to_the_end(lambda: None) is False
