"""Settings read from the environment (shared.settings): defaults, parsing, what they
refuse and how, and FUNCTION_MODULES that cannot load.
"""

from __future__ import annotations

import dataclasses

import pytest

from shared.functions import load_functions
from shared.settings import Settings, SettingsError

pytestmark = pytest.mark.any_redis


def test_settings_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.namespace == "sluice"
    assert settings.visibility_timeout == 30.0
    assert settings.heartbeat_interval == 10.0  # well inside the visibility timeout
    assert settings.visibility_ms == 30_000
    assert settings.result_ttl == 86_400
    assert settings.max_body_bytes == 1_048_576
    assert settings.max_backlog == 100_000
    assert settings.shutdown_grace == 20.0
    assert settings.function_modules == ()
    assert settings.log_format == "auto" and settings.log_level == "info"
    # Empty and blank values are unset.
    assert Settings.from_env({"VISIBILITY_TIMEOUT": "", "REDIS_URL": "  ", "LOG_FORMAT": ""}) == (
        Settings()
    )


def test_settings_from_environment() -> None:
    settings = Settings.from_env(
        {
            "REDIS_URL": " rediss://user:pw@redis.example:6380/2 ",
            "SLUICE_NAMESPACE": "prod",
            "VISIBILITY_TIMEOUT": "12",
            "RESULT_TTL": "3600",
            "MAX_BODY_BYTES": "1e6",
            "MAX_BACKLOG": "5",
            "SHUTDOWN_GRACE": "2.5",
            "FUNCTION_MODULES": " a.b , ,c ,",
            "LOG_FORMAT": "JSON",
            "LOG_LEVEL": "DEBUG",
        }
    )
    assert settings.redis_url == "rediss://user:pw@redis.example:6380/2"
    assert settings.namespace == "prod"
    assert settings.visibility_timeout == 12.0 and settings.visibility_ms == 12_000
    assert settings.heartbeat_interval == 4.0  # a third of the visibility timeout by default
    assert settings.result_ttl == 3600 and isinstance(settings.result_ttl, int)
    assert settings.max_body_bytes == 1_000_000 and isinstance(settings.max_body_bytes, int)
    assert settings.max_backlog == 5
    assert settings.shutdown_grace == 2.5
    assert settings.function_modules == ("a.b", "c")
    assert settings.log_format == "json" and settings.log_level == "debug"
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.namespace = "other"  # type: ignore[misc]
    assert settings.replace(namespace="other").namespace == "other"


@pytest.mark.parametrize(
    "name",
    [
        "VISIBILITY_TIMEOUT",
        "HEARTBEAT_INTERVAL",
        "RESULT_TTL",
        "MAX_BODY_BYTES",
        "MAX_BACKLOG",
        "SHUTDOWN_GRACE",
    ],
)
@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf", "-inf", "1e400", "0x10"])
def test_settings_reject_bad_numbers(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize("name", ["RESULT_TTL", "MAX_BODY_BYTES", "MAX_BACKLOG"])
def test_settings_counts_are_at_least_one(name: str) -> None:
    """0.5 is > 0, but as a count it is 0: every body too large, every queue full."""
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: "0.5"})
    assert getattr(Settings.from_env({name: "1"}), name.lower()) == 1


def test_settings_heartbeat_must_be_shorter_than_visibility() -> None:
    for heartbeat in ("10", "11", "100"):
        with pytest.raises(SettingsError, match="HEARTBEAT_INTERVAL"):
            Settings.from_env({"VISIBILITY_TIMEOUT": "10", "HEARTBEAT_INTERVAL": heartbeat})
    with pytest.raises(SettingsError):
        Settings.from_env({"VISIBILITY_TIMEOUT": "1", "HEARTBEAT_INTERVAL": "10"})
    ok = Settings.from_env({"VISIBILITY_TIMEOUT": "10", "HEARTBEAT_INTERVAL": "9.5"})
    assert ok.heartbeat_interval == 9.5
    short = Settings.from_env({"VISIBILITY_TIMEOUT": "0.3"})
    assert 0 < short.heartbeat_interval < short.visibility_timeout


def test_settings_reject_unknown_log_format() -> None:
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"})
    assert issubclass(SettingsError, ValueError)


@pytest.mark.parametrize(
    "url", ["http://localhost:6379", "localhost:6379", "redis:/x", "https://u:secret@h:1"]
)
def test_settings_reject_a_redis_url_of_another_scheme_without_showing_it(url: str) -> None:
    with pytest.raises(SettingsError, match="REDIS_URL") as raised:
        Settings.from_env({"REDIS_URL": url})
    assert "secret" not in str(raised.value)
    for good in ("redis://h:1/0", "rediss://:pw@h:1", "unix:///tmp/redis.sock", "REDIS://h:1"):
        assert Settings.from_env({"REDIS_URL": good}).redis_url == good


@pytest.mark.parametrize("namespace", ["a{b}", "{x}", "x}", "with space", "tab\tx", "nul\x00"])
def test_settings_reject_a_namespace_with_braces_or_spaces(namespace: str) -> None:
    """Braces would make every function's keys one Redis Cluster hash tag."""
    with pytest.raises(SettingsError, match="SLUICE_NAMESPACE"):
        Settings.from_env({"SLUICE_NAMESPACE": namespace})
    for good in ("prod.app-1:v2", "team/app@eu", "é" * 70):
        assert Settings.from_env({"SLUICE_NAMESPACE": good}).namespace == good


@pytest.mark.parametrize(
    ("module", "says"),
    [
        ("tests.no_such_module", "ModuleNotFoundError"),
        ("shared.builtins", ""),  # loads (built in anyway): no error
    ],
)
def test_function_modules_that_cannot_load_are_named(module: str, says: str) -> None:
    if not says:
        assert "echo" in load_functions([module])
        return
    with pytest.raises(SettingsError, match=f"FUNCTION_MODULES: '{module}'.*{says}"):
        load_functions([module])
