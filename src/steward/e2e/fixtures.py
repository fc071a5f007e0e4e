"""The plugin's fixtures (module-level: pytest 9 deprecates fixtures on plugin instances)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from steward.e2e.session import E2EPlugin

SESSION_PLUGIN = "steward-e2e-session"


def _plugin(config: pytest.Config) -> E2EPlugin:
    plugin = config.pluginmanager.get_plugin(SESSION_PLUGIN)
    assert plugin is not None, "steward.e2e.fixtures registered without the session plugin"
    return plugin  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def e2e_run_id(pytestconfig: pytest.Config) -> str:
    """This run's id: in every stack name and tag."""
    return _plugin(pytestconfig).run_id


@pytest.fixture(scope="session")
def e2e_shared_dir(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder all workers of this session share (the root `call_once` wants)."""
    from steward.e2e.once import shared_root

    under_xdist = _plugin(pytestconfig).is_worker
    return shared_root(tmp_path_factory.getbasetemp(), under_xdist=under_xdist)


@pytest.fixture(scope="session")
def e2e_build_dir(pytestconfig: pytest.Config) -> Path:
    """Builds that persist across sessions (layer zips, cdk.out), as in the playbook."""
    build_dir = _plugin(pytestconfig).build_dir
    build_dir.mkdir(parents=True, exist_ok=True)
    return build_dir


@pytest.fixture(scope="session")
def e2e_layer_zip() -> Path | None:
    """A Lambda layer zip every feature's functions get. None here: override it in your
    top-level conftest to build one once (`call_once` + `build_layer`, see docs/e2e.md)."""
    return None


@pytest.fixture
def infrastructure(request: pytest.FixtureRequest, e2e_layer_zip: Path | None) -> dict[str, str]:
    """The feature's stack outputs; the stack is deployed on the feature's first test."""
    return dict(_plugin(request.config).outputs_for(request.node, layer_zip=e2e_layer_zip))


@pytest.fixture(autouse=True)
def _steward_e2e_spread_deploy(request: pytest.FixtureRequest) -> None:
    """--e2e-spread: a feature's first test deploys its stack, whether it asks for it or not."""
    plugin = _plugin(request.config)
    if plugin.deploys_here(request.node):
        layer = request.getfixturevalue("e2e_layer_zip")
        plugin.outputs_for(request.node, layer_zip=layer)
