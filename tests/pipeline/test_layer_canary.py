"""The layer canary on moto (#19): its answer must carry what only a run of its handler
knows, so moto's Invoke, which echoes the event, can no longer pass it; with steward's
local runtime attached the handler really runs with the layer on its path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from steward.e2e.emulator import Emulator
from steward.errors import ReleaseError
from steward.pipeline.aws import Sessions
from steward.pipeline.stages.layer_publish import canary_problem
from tests.pipeline.conftest import Index, make_sample
from tests.pipeline.layer_support import (
    BETA,
    BETA_REGIONS,
    Accounts,
    SarStubs,
    layer_config,
    layer_project,
)
from tests.pipeline.test_layer import release
from tests.pipeline.test_release_run import VERSION, state, statuses

STAGES = "[seal, build, layer-build, layer-beta]"


def _sample(tmp_path: Path, pypi: Index, speedups: list[Path], stale: str | None = None):  # type: ignore[no-untyped-def]
    for wheel in speedups:
        shutil.copy(wheel, pypi.packages)

    def prepare(root: Path) -> None:
        layer_project(root)
        if stale is not None:  # a package whose __version__ was never bumped
            init = root / "src" / "sample" / "__init__.py"
            text = init.read_text().replace(
                '__version__ = version("sample")', f'__version__ = "{stale}"'
            )
            init.write_text(text)

    return make_sample(
        tmp_path, pypi, extra=layer_config(pypi.simple_url), stages=STAGES, prepare=prepare
    )


def test_an_echoed_event_no_longer_passes_the_canary(
    tmp_path: Path, pypi: Index, moto: Emulator, speedups: list[Path]
) -> None:
    """#19: moto's Invoke answers the event it is sent, which held the package and version
    the old check compared: the canary passed whatever the handler did."""
    sample = _sample(tmp_path, pypi, speedups)
    env = {**sample.env(), **Accounts(moto, tmp_path).env()}

    with pytest.raises(ReleaseError) as failed:
        release(sample, env, Sessions(env, "tests"))  # type: ignore[arg-type]

    assert "the canary's answer does not come from its handler" in str(failed.value)
    assert statuses(sample)["layer-beta"] == "failed"


def test_the_canary_runs_its_handler_with_the_layer_on_moto(
    tmp_path: Path, pypi: Index, moto: Emulator, speedups: list[Path]
) -> None:
    sample = _sample(tmp_path, pypi, speedups)
    accounts = Accounts(moto, tmp_path)
    env = {**sample.env(), **accounts.env()}
    cache = tmp_path / "lambda-cache"
    from tests.pipeline.layer_support import local_lambda

    release(sample, env, SarStubs(env, runner=local_lambda(cache)))

    assert statuses(sample)["layer-beta"] == "completed"
    rec = next(s for s in state(sample)["stages"] if s["name"] == "layer-beta")
    for region in BETA_REGIONS:
        x86 = rec["details"]["layers"][region]["x86_64"]["canary"]
        assert x86.startswith(
            f"sample-311-x86_64-canary imported sample {VERSION} (__version__) from "
        )
        where = x86.rsplit(" from ", 1)[1]
        assert where.startswith(str(cache.resolve()))
        assert where.endswith("/python/sample/__init__.py")
        arm = rec["details"]["layers"][region]["arm64"]["canary"]
        assert "sample-311-arm64-canary not run" in arm
        # the handler's own run logged to CloudWatch Logs on the emulator
        logs = accounts.client("logs", BETA, region)
        groups = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
        assert "/aws/lambda/sample-311-x86_64-canary" in groups


def test_a_layer_holding_another_version_fails_the_canary(
    tmp_path: Path, pypi: Index, moto: Emulator, speedups: list[Path]
) -> None:
    sample = _sample(tmp_path, pypi, speedups, stale="0.9.0")
    env = {**sample.env(), **Accounts(moto, tmp_path).env()}

    with pytest.raises(ReleaseError) as failed:
        release(sample, env, SarStubs(env))

    message = str(failed.value)
    assert f"the layer's sample is 0.9.0 (__version__), not the released {VERSION}" in message
    assert "failed in 2 of 2 regions" in message


def test_canary_answers_are_judged_by_what_only_a_run_knows() -> None:
    event = {"package": "sample", "version": "1.2.0", "imports": ["sample"], "layer_root": "/opt"}
    assert "does not come from its handler" in str(canary_problem(event, "1.2.0", "/opt"))
    ok = {
        "imported": {
            "module": "sample",
            "version": "1.2.0",
            "via": "metadata",
            "from": "/opt/python/sample/__init__.py",
            "task_root": "/var/task",
        }
    }
    assert canary_problem(ok, "1.2.0", "/opt") is None
    assert "not the released 1.3.0" in str(canary_problem(ok, "1.3.0", "/opt"))
    elsewhere = {"imported": {**ok["imported"], "from": "/var/task/sample/__init__.py"}}
    assert "not from the layer under /opt" in str(canary_problem(elsewhere, "1.2.0", "/opt"))
    under_task = {"imported": {**ok["imported"], "task_root": "/opt/python"}}
    assert "not from the layer" in str(canary_problem(under_task, "1.2.0", "/opt"))
    failed = {"errorMessage": "No module named 'sample'", "errorType": "ModuleNotFoundError"}
    assert canary_problem(failed, "1.2.0", "/opt") == "No module named 'sample'"


def test_release_run_gives_the_pipeline_the_local_runner(
    tmp_path: Path, pypi: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI is where the runner is injected (`steward.pipeline` may not import
    `steward.e2e`): without it a `release run` against moto fails its canary."""
    import steward.pipeline.runner as runner_module
    from steward.cli.release_lambda import local_lambda
    from tests.pipeline.test_release_run import run_cli

    seen: list[Any] = []
    monkeypatch.setattr(runner_module, "run_release", lambda root, config, opts: seen.append(opts))
    sample = make_sample(tmp_path, pypi)
    run_cli(["run", "--version", VERSION, "--path", str(sample.root)], sample.env())
    (opts,) = seen
    assert opts.aws is not None
    assert opts.aws._runner.__qualname__ == local_lambda(tmp_path).__qualname__
