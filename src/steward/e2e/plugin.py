"""pytest entry point (registered for every pytest run): inert unless a project opts in.

Opt in with any of: `steward_e2e = true` in the ini file, `--steward-e2e`, or `-p steward.e2e`.
Until then this module only declares its options; it imports neither boto3 nor xdist.
"""

from __future__ import annotations

import os

import pytest

ENABLE_INI = "steward_e2e"
# Set before a project's own code imports aws_cdk (its infrastructure modules do, at import):
# the CDK's jsii process reads them once, when it starts. CDK_VALIDATION=false skips
# synth-time validation, ~4 s -> ~0.1 s per feature. A value the caller set wins.
CDK_SPEED_ENV = {
    "CDK_VALIDATION": "false",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    # a list of Node majors, not a flag: the end-of-life ones as of this writing
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "14,16,18,19,20,21,23",
}
SESSION_PLUGIN = "steward-e2e-session"  # keep in sync with steward.e2e.fixtures


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        ENABLE_INI,
        "Enable the steward E2E plugin (deploys feature stacks).",
        type="bool",
        default=False,
    )
    parser.addini("steward_e2e_prefix", "Stack name prefix.", default="steward-e2e")
    parser.addini(
        "steward_e2e_deployer", "direct (boto3) or cdk-cli, for CDK stacks.", default="direct"
    )
    parser.addini(
        "steward_e2e_build_dir",
        "Where layers and cdk.out go (relative to rootdir).",
        default="cdk.out",
    )
    group = parser.getgroup("steward-e2e", "steward E2E infrastructure")
    group.addoption(
        "--steward-e2e", action="store_true", default=False, help="Enable the steward E2E plugin."
    )
    group.addoption(
        "--e2e-run-id", default=None, help="Run id for stack names and tags (default: random)."
    )
    group.addoption(
        "--e2e-deployer",
        default=None,
        choices=["direct", "cdk-cli"],
        help="Override steward_e2e_deployer.",
    )
    group.addoption(
        "--e2e-keep", action="store_true", default=False, help="Do not delete stacks (debugging)."
    )
    parser.addini(
        "steward_e2e_allow_skipped",
        "Resource types (fnmatch, e.g. AWS::AppConfig::*) the target may leave out of a "
        "stack; any other resource it does not create fails the deploy.",
        type="linelist",
        default=[],
    )
    parser.addini(
        "steward_e2e_spread",
        "With pytest-xdist: once a feature's stack is up, its other tests may run on idle "
        "workers (features whose own conftest.py deploys the stack are never spread).",
        type="bool",
        default=False,
    )
    group.addoption(
        "--e2e-spread",
        action="store_true",
        default=None,
        help="Override steward_e2e_spread: spread a deployed feature's tests over workers.",
    )
    parser.addini(
        "steward_e2e_local",
        "Run Lambda handlers here (auto: when AWS_ENDPOINT_URL is a moto server; on; off).",
        default="auto",
    )
    group.addoption(
        "--e2e-local",
        default=None,
        choices=["auto", "on", "off"],
        help="Override steward_e2e_local: run invoked Lambda handlers locally in a subprocess.",
    )


def enabled(config: pytest.Config) -> bool:
    return bool(
        config.getoption("steward_e2e")
        or config.getini(ENABLE_INI)
        or config.pluginmanager.has_plugin("steward.e2e")
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Before the first conftest (and so before a project's infrastructure modules import
    aws_cdk): the CDK's speed settings, when the plugin is on."""
    known = early_config.known_args_namespace
    if (
        getattr(known, "steward_e2e", False)
        or early_config.getini(ENABLE_INI)
        or early_config.pluginmanager.has_plugin("steward.e2e")
    ):
        for key, value in CDK_SPEED_ENV.items():
            os.environ.setdefault(key, value)


def pytest_configure(config: pytest.Config) -> None:
    if enabled(config) and not config.pluginmanager.has_plugin(SESSION_PLUGIN):
        from steward.e2e import fixtures
        from steward.e2e.session import E2EPlugin

        config.pluginmanager.register(E2EPlugin(config), SESSION_PLUGIN)
        config.pluginmanager.register(fixtures, "steward-e2e-fixtures")
