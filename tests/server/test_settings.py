"""Server settings: a TOML file, then STEWARD_* variables, then options; secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.errors import ConfigError, UsageError
from steward.server.settings import Settings, load_settings


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    conf = tmp_path / "server.toml"
    conf.write_text(
        "[server]\n"
        "app_id = 12\n"
        f'private_key_file = "{key}"\n'
        'webhook_secret = "from-file"\n'
        "port = 9000\n"
        "workers = 3\n"
    )
    env = {"STEWARD_WEBHOOK_SECRET": "from-env", "STEWARD_PORT": "9100"}
    got = load_settings(conf, env, {"port": 9200, "workers": None})
    assert got.app_id == 12
    assert got.private_key is not None
    assert "abc" in got.private_key.get_secret_value()
    assert got.webhook_secret is not None
    assert got.webhook_secret.get_secret_value() == "from-env"
    assert got.port == 9200  # the command line wins
    assert got.workers == 3  # an option not given leaves the file's value
    assert got.database_url == "sqlite:///steward-server.db"
    got.require_app()


def test_the_config_file_may_come_from_the_environment(tmp_path: Path) -> None:
    conf = tmp_path / "s.toml"
    conf.write_text('app_slug = "steward-app"\n')
    got = load_settings(None, {"STEWARD_SERVER_CONFIG": str(conf)})
    assert got.bot == "steward-app[bot]"
    assert Settings(app_slug="x", bot_login="y[bot]").bot == "y[bot]"


def test_secrets_never_show() -> None:
    got = Settings(webhook_secret="hunter2-secret", private_key="-----BEGIN KEY-----")
    assert "hunter2" not in repr(got)
    assert "hunter2" not in str(got)
    assert "BEGIN" not in repr(got)
    assert set(got.secrets()) == {"hunter2-secret", "-----BEGIN KEY-----"}


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({}, ["webhook secret", "App id", "private key"]),
        ({"webhook_secret": "s"}, ["App id", "private key"]),
        ({"webhook_secret": "s", "app_id": 1, "private_key": "  "}, ["private key"]),
        ({"app_id": 1, "private_key": "k", "webhook_secret": ""}, ["webhook secret"]),
    ],
)
def test_serving_needs_a_secret_and_app_credentials(
    values: dict[str, object], missing: list[str]
) -> None:
    with pytest.raises(UsageError) as info:
        Settings(**values).require_app()  # type: ignore[arg-type]
    for what in missing:
        assert what in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense = 1\n", "unknown setting 'nonsense'"),
        ("port = 'x'\n", "setting port"),
        ("port = [\n", "not TOML"),
        ('webhook_path = "hook"\n', "webhook_path"),
    ],
)
def test_bad_files_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    conf = tmp_path / "s.toml"
    conf.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(conf, {})
    assert message in str(info.value)
    assert str(conf) in str(info.value)


def test_missing_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read server config"):
        load_settings(tmp_path / "absent.toml", {})
    with pytest.raises(ConfigError, match="cannot read the private key"):
        load_settings(None, {"STEWARD_PRIVATE_KEY_FILE": str(tmp_path / "absent.pem")})
