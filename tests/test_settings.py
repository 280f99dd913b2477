from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.settings import ConfigError, Settings, database_uri, from_environment, settings


def test_production_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(ConfigError) as error:
        from_environment(str(tmp_path), {"MINDFUSE_ENV": "production", "SECRET_KEY": "x"})
    missing = str(error.value).split(" without: ")[1].split(". ")[0].split(", ")
    assert "NUMBER_HASH_KEY" in missing and "DATABASE_URL" in missing
    assert "STRIPE_WEBHOOK_SECRET" in missing and "SECRET_KEY" not in missing


def test_development_generates_and_keeps_local_secrets(tmp_path):
    first = from_environment(str(tmp_path), {})
    second = from_environment(str(tmp_path), {})
    assert first["NUMBER_HASH_KEY"] == second["NUMBER_HASH_KEY"]
    assert first["TWILIO_ACCOUNT_SID"].startswith("AC")
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
    assert first["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert first["REDIS_URL"] is None
    assert first["TWILIO_API_BASE"] == "http://127.0.0.1:8700"  # generated credentials: the twin
    real = from_environment(str(tmp_path), {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32})
    assert real["TWILIO_API_BASE"] == "https://api.twilio.com"


def test_environment_overrides_and_flags(tmp_path):
    config = from_environment(
        str(tmp_path),
        {
            "DATABASE_URL": "postgres://u@h/db",
            "PURGE_TWILIO_RECORDS": "false",
            "TWILIO_API_BASE": "http://127.0.0.1:9/",
            "WAIT_TIMEOUT_SECONDS": "7",
        },
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert config["PURGE_TWILIO_RECORDS"] is False
    assert config["TWILIO_API_BASE"] == "http://127.0.0.1:9"
    assert config["WAIT_TIMEOUT_SECONDS"] == 7
    assert database_uri("sqlite:///x.db") == "sqlite:///x.db"


def _readme_settings() -> set[str]:
    """The variables named in the first column of the README's configuration table."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_every_setting_is_in_the_readme_and_the_readme_names_only_settings():
    declared = {setting.name for setting in Settings.declared()}
    documented = _readme_settings()
    assert declared - documented == set(), "settings missing from the README's table"
    assert documented - declared == set(), "the README's table names settings that do not exist"


def test_every_setting_says_what_it_means_and_reads_back_typed(app):
    for setting in Settings.declared():
        assert setting.meaning and setting.name.isupper()
    with app.app_context():
        assert app.config["WAIT_TIMEOUT_SECONDS"] == settings.WAIT_TIMEOUT_SECONDS
        app.config["WAIT_TIMEOUT_SECONDS"] = 3  # a test's override is what the code reads
        assert settings.WAIT_TIMEOUT_SECONDS == 3
        assert app.config["SQLALCHEMY_DATABASE_URI"] == settings.DATABASE_URL
        assert settings.MINDFUSE_ENV == "development"


def test_the_sending_rate_is_a_number_above_zero(tmp_path):
    config = from_environment(str(tmp_path), {"SMS_SEGMENTS_PER_SECOND": "0.5"})
    assert config["SMS_SEGMENTS_PER_SECOND"] == 0.5
    assert from_environment(str(tmp_path), {})["SMS_SEGMENTS_PER_SECOND"] == 1.0  # a long code
    for bad in ("0", "-1", "fast"):
        with pytest.raises(ValueError):
            from_environment(str(tmp_path), {"SMS_SEGMENTS_PER_SECOND": bad})


def test_the_wait_and_listener_timers_take_fractions_of_their_unit(tmp_path):
    # A benchmark on a compressed clock divides them by a hundred or more.
    fractions = {
        "WAIT_TIMEOUT_SECONDS": "0.5",
        "LISTENER_AFTER_SECONDS": "0.375",
        "LISTENER_REST_MINUTES": "0.25",
        "CALLBACK_WINDOW_MINUTES": "1.5",
        "RINGING_RECHECK_SECONDS": "0.04",
    }
    config = from_environment(str(tmp_path), fractions)
    assert {name: config[name] for name in fractions} == {
        name: float(text) for name, text in fractions.items()
    }
    defaults = from_environment(str(tmp_path), {})
    assert [defaults[name] for name in fractions] == [60, 45, 2, 120, 5]
    with pytest.raises(ValueError):
        from_environment(str(tmp_path), {"WAIT_TIMEOUT_SECONDS": "-1"})


def _production(**overrides: str) -> dict[str, str]:
    """A complete, strong production environment, with `overrides` over it."""
    env = {
        "MINDFUSE_ENV": "production",
        "DATABASE_URL": "postgresql://line@db.example.org/line",
        "REDIS_URL": "redis://redis.example.org:6379/0",
        "SECRET_KEY": "s" * 32,
        "NUMBER_HASH_KEY": "h" * 32,
        "NUMBER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "TWILIO_PHONE_NUMBER": "+15550100000",
        "PUBLIC_BASE_URL": "https://line.example.org",
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
    }
    return {**env, **overrides}


def _refusal(tmp_path, **overrides: str) -> str:
    with pytest.raises(ConfigError) as error:
        from_environment(str(tmp_path), _production(**overrides))
    return str(error.value)


def test_production_starts_with_strong_settings(tmp_path):
    config = from_environment(str(tmp_path), _production())
    assert config["PUBLIC_BASE_URL"] == "https://line.example.org"
    assert not (tmp_path / "secrets.json").exists()  # production generates nothing


@pytest.mark.parametrize("name", ["SECRET_KEY", "NUMBER_HASH_KEY"])
def test_production_refuses_a_key_shorter_than_32_bytes(tmp_path, name):
    message = _refusal(tmp_path, **{name: "x"})
    assert f"{name} is 1 bytes long; it must be at least 32" in message
    assert f"{name} is 31 bytes" in _refusal(tmp_path, **{name: "x" * 31})
    from_environment(str(tmp_path), _production(**{name: "é" * 16}))  # 32 bytes in UTF-8


def test_production_refuses_a_short_rekey_and_takes_them_in_order(tmp_path):
    first, second = "a" * 32, "b" * 40
    message = _refusal(tmp_path, NUMBER_HASH_REKEYS=f"{first},short")
    assert "NUMBER_HASH_REKEYS key 2 is 5 bytes long; it must be at least 32" in message
    config = from_environment(str(tmp_path), _production(NUMBER_HASH_REKEYS=f"{first}, {second}"))
    assert config["NUMBER_HASH_REKEYS"] == (first, second)


@pytest.mark.parametrize(
    "keys",
    ["x", "not-a-fernet-key-" * 3, Fernet.generate_key().decode() + ",short", " , "],
)
def test_production_refuses_anything_but_fernet_keys(tmp_path, keys):
    assert "NUMBER_ENCRYPTION_KEY " in _refusal(tmp_path, NUMBER_ENCRYPTION_KEY=keys)


def test_production_accepts_several_fernet_keys(tmp_path):
    keys = f"{Fernet.generate_key().decode()}, {Fernet.generate_key().decode()}"
    from_environment(str(tmp_path), _production(NUMBER_ENCRYPTION_KEY=keys))


@pytest.mark.parametrize("url", ["http://line.example.org", "line.example.org", "https://"])
def test_production_refuses_a_public_base_url_that_is_not_https(tmp_path, url):
    message = _refusal(tmp_path, PUBLIC_BASE_URL=url)
    assert f"PUBLIC_BASE_URL is {url!r}; it must be an https:// address" in message


def test_production_refuses_sqlite(tmp_path):
    message = _refusal(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'line.db'}")
    assert "DATABASE_URL points at SQLite; production needs PostgreSQL" in message


def test_every_unsafe_setting_is_named_at_once(tmp_path):
    message = _refusal(
        tmp_path, SECRET_KEY="x", NUMBER_HASH_KEY="y", PUBLIC_BASE_URL="http://line.example.org"
    )
    assert [line.split()[1] for line in message.splitlines()[1:]] == [
        "SECRET_KEY",
        "NUMBER_HASH_KEY",
        "PUBLIC_BASE_URL",
    ]


def test_development_keeps_its_generated_defaults(tmp_path):
    config = from_environment(str(tmp_path), {"SECRET_KEY": "x"})  # not production: allowed
    assert config["SECRET_KEY"] == "x" and config["PUBLIC_BASE_URL"].startswith("http://")


def test_one_setting_moves_both_stand_ins(tmp_path):
    moved = from_environment(str(tmp_path), {"TWILIO_API_BASE": "http://127.0.0.1:8800/"})
    assert moved["TWILIO_API_BASE"] == moved["STRIPE_API_BASE"] == "http://127.0.0.1:8800"
    assert from_environment(str(tmp_path), {})["STRIPE_API_BASE"] == "http://127.0.0.1:8700"
    # Real Twilio, no Stripe key: the Stripe stand-in stays where the twin would listen.
    real = {"TWILIO_API_BASE": "https://api.twilio.com", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32}
    assert from_environment(str(tmp_path), real)["STRIPE_API_BASE"] == "http://127.0.0.1:8700"
    keyed = {"TWILIO_API_BASE": "http://127.0.0.1:8800", "STRIPE_SECRET_KEY": "sk_test_x"}
    assert from_environment(str(tmp_path), keyed)["STRIPE_API_BASE"] == "https://api.stripe.com"


def test_the_local_address_follows_the_port_and_the_log_level_is_a_level_name(tmp_path):
    config = from_environment(str(tmp_path), {"PORT": "8000", "LOG_LEVEL": "debug"})
    assert config["PUBLIC_BASE_URL"] == "http://127.0.0.1:8000"
    assert config["PORT"] == 8000 and config["LOG_LEVEL"] == "DEBUG"
    assert from_environment(str(tmp_path), {})["LOG_LEVEL"] == "INFO"
    with pytest.raises(ValueError, match="not one of DEBUG, INFO"):
        from_environment(str(tmp_path), {"LOG_LEVEL": "loud"})


def test_sentinels_are_host_port_pairs_and_stand_in_for_redis_url_in_production(tmp_path):
    config = from_environment(
        str(tmp_path), {"REDIS_SENTINELS": "10.0.0.1:26379, [::1]:26380,sentinel-3:5000"}
    )
    assert config["REDIS_SENTINELS"] == [("10.0.0.1", 26379), ("::1", 26380), ("sentinel-3", 5000)]
    assert config["REDIS_SENTINEL_MASTER"] == "mindfuse"
    with pytest.raises(ValueError):
        from_environment(str(tmp_path), {"REDIS_SENTINELS": "10.0.0.1"})
    production = {"MINDFUSE_ENV": "production", "REDIS_SENTINELS": "10.0.0.1:26379"}
    with pytest.raises(ConfigError) as error:
        from_environment(str(tmp_path), production)
    assert "REDIS_URL" not in str(error.value).split(" without: ")[1].split(". ")[0].split(", ")
    with pytest.raises(ConfigError) as error:
        from_environment(str(tmp_path), {"MINDFUSE_ENV": "production"})
    assert "REDIS_URL" in str(error.value).split(" without: ")[1].split(". ")[0].split(", ")
