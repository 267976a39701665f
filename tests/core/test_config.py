"""Configuration: production demands every required variable and names all problems at once;
development fills safe generated defaults kept under instance/."""

from __future__ import annotations

import json
import stat

import pytest

from core.config import ConfigError, load_settings, public_view

REQUIRED = ("DATABASE_URL", "JWT_SECRET", "ROOT_DOMAIN", "PLATFORM_HOSTS", "RESERVED_SUBDOMAINS",
            "FIRST_OWNER_EMAIL", "FIRST_OWNER_PASSWORD")

VALID_PRODUCTION = {
    "TENANTRY_ENV": "production",
    "DATABASE_URL": "postgresql://app:pw@db/tenantry",
    "JWT_SECRET": "s" * 40,
    "ROOT_DOMAIN": "example.com",
    "PLATFORM_HOSTS": "admin.example.com, API.example.com",
    "RESERVED_SUBDOMAINS": "www,api",
    "FIRST_OWNER_EMAIL": "Root@Example.com",
    "FIRST_OWNER_PASSWORD": "long-enough",
}


def test_production_names_every_missing_variable_at_once(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(environ={"TENANTRY_ENV": "production"}, instance_path=tmp_path)
    message = str(excinfo.value)
    for name in REQUIRED:
        assert f"{name}: missing" in message
    assert not (tmp_path / "dev-secrets.json").exists()  # nothing generated in production


def test_production_names_every_malformed_variable_at_once(tmp_path):
    environ = {**VALID_PRODUCTION, "DATABASE_URL": "mysql://x", "JWT_SECRET": "short",
               "LOG_LEVEL": "LOUD", "APP_PORT": "zero", "FIRST_OWNER_EMAIL": "nobody"}
    with pytest.raises(ConfigError) as excinfo:
        load_settings(environ=environ, instance_path=tmp_path)
    message = str(excinfo.value)
    for name in ("DATABASE_URL", "JWT_SECRET", "LOG_LEVEL", "APP_PORT", "FIRST_OWNER_EMAIL"):
        assert name in message
    assert "short" not in message  # a rejected secret is not echoed


def test_database_url_set_means_production(tmp_path):
    with pytest.raises(ConfigError, match="JWT_SECRET: missing"):
        load_settings(environ={"DATABASE_URL": "postgresql://a@b/c"}, instance_path=tmp_path)


def test_valid_production_settings_are_parsed(tmp_path):
    settings = load_settings(environ=VALID_PRODUCTION, instance_path=tmp_path)
    assert settings["DATABASE_URL"] == "postgresql+psycopg://app:pw@db/tenantry"
    assert settings["PLATFORM_HOSTS"] == ("admin.example.com", "api.example.com")
    assert settings["FIRST_OWNER_EMAIL"] == "root@example.com"
    assert settings["FREE_TIER_LIMIT"] == 1000
    assert settings["LOG_LEVEL"] == "INFO"
    assert public_view(settings)["JWT_SECRET"] == "***"


def test_precedence_instance_file_then_environment_then_overrides(tmp_path):
    (tmp_path / "config.py").write_text("LOG_LEVEL = 'WARNING'\nFREE_TIER_LIMIT = 7\n"
                                        "APP_PORT = 9000\n")
    settings = load_settings({"APP_PORT": 9100}, environ={**VALID_PRODUCTION,
                                                          "FREE_TIER_LIMIT": "8"},
                             instance_path=tmp_path)
    assert settings["LOG_LEVEL"] == "WARNING"  # from instance/config.py
    assert settings["FREE_TIER_LIMIT"] == 8  # environment beats the file
    assert settings["APP_PORT"] == 9100  # create_app(config) beats both


def test_development_generates_secrets_once_and_keeps_them_private(tmp_path):
    first = load_settings(environ={}, instance_path=tmp_path)
    assert first["TENANTRY_ENV"] == "development"
    assert first["DATABASE_URL"] is None  # the embedded server will be used
    assert first["DEV_SECRETS_GENERATED"] is True
    assert len(first["JWT_SECRET"]) >= 32
    secrets_file = tmp_path / "dev-secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    second = load_settings(environ={}, instance_path=tmp_path)
    assert second["JWT_SECRET"] == first["JWT_SECRET"]
    assert second["FIRST_OWNER_PASSWORD"] == json.loads(secrets_file.read_text())[
        "FIRST_OWNER_PASSWORD"]
    assert second["DEV_SECRETS_GENERATED"] is False  # printed once, not on every start
    assert second["ROOT_DOMAIN"] == "localhost"
    assert "localhost" in second["PLATFORM_HOSTS"]


def test_the_cheap_password_profile_is_refused_in_production(tmp_path):
    with pytest.raises(ConfigError, match="PASSWORD_HASH_PROFILE"):
        load_settings(environ={**VALID_PRODUCTION, "PASSWORD_HASH_PROFILE": "test"},
                      instance_path=tmp_path)


def test_the_hashing_slot_folder_must_be_absolute(tmp_path):
    with pytest.raises(ConfigError, match="PASSWORD_HASH_SLOT_DIR: must be an absolute path"):
        load_settings(environ={**VALID_PRODUCTION, "PASSWORD_HASH_SLOT_DIR": "slots"},
                      instance_path=tmp_path)
    chosen = load_settings(environ={**VALID_PRODUCTION, "PASSWORD_HASH_SLOT_DIR": str(tmp_path)},
                           instance_path=tmp_path)
    assert chosen["PASSWORD_HASH_SLOT_DIR"] == str(tmp_path)


def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="TENANTRY_ENV"):
        load_settings(environ={"TENANTRY_ENV": "staging"}, instance_path=tmp_path)


def test_create_app_refuses_to_start_with_bad_production_config(tmp_path):
    from core import create_app

    with pytest.raises(ConfigError) as excinfo:
        create_app({"TENANTRY_ENV": "production", "INSTANCE_PATH": tmp_path})
    assert "DATABASE_URL: missing" in str(excinfo.value)
