"""Settings.from_env: every bad variable is named in the error, secrets never show."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.config import Secret, Settings, SettingsError
from tests import harness

WEBHOOK_SECRET = "whsec-do-not-print-7f3a9c"


def rsa_pem() -> str:
    """The test App's RSA key, PKCS#1 like GitHub's download ("BEGIN RSA PRIVATE KEY")."""
    return harness.keys()[0]


@lru_cache(maxsize=1)
def ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def pem_body_line() -> str:
    """A line from the middle of the key: the part that must never leak."""
    return rsa_pem().splitlines()[5]


def env(**overrides: str | None) -> dict[str, str]:
    base: dict[str, str] = {
        "GITHUB_APP_ID": "12345",
        "GITHUB_PRIVATE_KEY": rsa_pem(),
        "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    for name, value in overrides.items():
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    return base


def error_for(environ: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(environ)
    return str(info.value)


# --- the happy path and defaults ----------------------------------------------------------


def test_minimal_environment_gives_the_documented_defaults() -> None:
    settings = Settings.from_env(env())
    assert settings.app_id == "12345"
    assert settings.private_key.reveal() == rsa_pem().strip()
    assert settings.webhook_secret.reveal() == WEBHOOK_SECRET
    assert settings.api_url == "https://api.github.com"
    assert settings.host == "0.0.0.0"
    assert settings.port == 8080
    assert settings.workers == 2
    assert settings.max_queue == 500
    assert settings.log_level == "INFO"
    assert settings.elixir is True


def test_every_optional_variable_is_read() -> None:
    settings = Settings.from_env(
        env(
            GITHUB_API_URL="https://ghe.example.com/api/v3/",
            HOST="127.0.0.1",
            PORT="9000",
            LADDER_WORKERS="4",
            LADDER_MAX_QUEUE="50",
            LADDER_LOG_LEVEL="debug",
            LADDER_ELIXIR="off",
        )
    )
    # The trailing slash is dropped so "{api_url}/app/..." never has "//".
    assert settings.api_url == "https://ghe.example.com/api/v3"
    assert settings.host == "127.0.0.1"
    assert settings.port == 9000
    assert settings.workers == 4
    assert settings.max_queue == 50
    assert settings.log_level == "DEBUG"
    assert settings.elixir is False


def test_blank_optional_variables_fall_back_to_defaults() -> None:
    settings = Settings.from_env(
        env(GITHUB_API_URL="  ", HOST="", PORT=" ", LADDER_WORKERS="", LADDER_ELIXIR="")
    )
    assert settings.api_url == "https://api.github.com"
    assert settings.host == "0.0.0.0"
    assert settings.port == 8080
    assert settings.workers == 2
    assert settings.elixir is True


@pytest.mark.parametrize("app_id", ["1", "987654321", "Iv1.0123456789abcdef", "Iv23liAbCdEf"])
def test_numeric_app_ids_and_client_ids_are_accepted(app_id: str) -> None:
    assert Settings.from_env(env(GITHUB_APP_ID=f" {app_id} ")).app_id == app_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("TRUE", True), ("yes", True), ("On", True), ("0", False), ("No", False)],
)
def test_elixir_flag_spellings(raw: str, expected: bool) -> None:
    assert Settings.from_env(env(LADDER_ELIXIR=raw)).elixir is expected


def test_from_env_without_argument_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env(PORT="8181").items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env().port == 8181


# --- missing and malformed variables name the variable ------------------------------------


@pytest.mark.parametrize("name", ["GITHUB_APP_ID", "GITHUB_WEBHOOK_SECRET"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_required_variable_is_named(name: str, value: str | None) -> None:
    message = error_for(env(**{name: value}))
    assert name in message
    assert "not set" in message


@pytest.mark.parametrize("value", [None, "", "  "])
def test_missing_private_key_names_both_variables(value: str | None) -> None:
    message = error_for(env(GITHUB_PRIVATE_KEY=value))
    assert "GITHUB_PRIVATE_KEY" in message
    assert "GITHUB_PRIVATE_KEY_PATH" in message


@pytest.mark.parametrize("app_id", ["0", "abc", "12a", "-5", "Iv1", "1234567890123"])
def test_malformed_app_id_is_named(app_id: str) -> None:
    message = error_for(env(GITHUB_APP_ID=app_id))
    assert message.startswith("GITHUB_APP_ID")
    assert repr(app_id) in message


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("PORT", "http", "whole number"),
        ("PORT", "0", "between 1 and 65535"),
        ("PORT", "65536", "between 1 and 65535"),
        ("PORT", "80.5", "whole number"),
        ("LADDER_WORKERS", "0", "between 1 and 64"),
        ("LADDER_WORKERS", "65", "between 1 and 64"),
        ("LADDER_WORKERS", "two", "whole number"),
        ("LADDER_MAX_QUEUE", "0", "between 1 and 100000"),
        ("LADDER_MAX_QUEUE", "-1", "between 1 and 100000"),
        ("LADDER_LOG_LEVEL", "verbose", "DEBUG, INFO, WARNING, ERROR"),
        ("LADDER_ELIXIR", "maybe", "true or false"),
        ("GITHUB_API_URL", "api.github.com", "http(s) URL"),
        ("GITHUB_API_URL", "ftp://api.github.com", "http(s) URL"),
        ("GITHUB_API_URL", "https://", "http(s) URL"),
    ],
)
def test_malformed_optional_variable_is_named(name: str, value: str, fragment: str) -> None:
    message = error_for(env(**{name: value}))
    assert message.startswith(name)
    assert fragment in message


def test_settings_error_is_a_value_error() -> None:
    # Callers that catch ValueError around configuration still catch it.
    assert issubclass(SettingsError, ValueError)


# --- the private key ----------------------------------------------------------------------


def test_pem_with_literal_backslash_n_is_unfolded() -> None:
    one_line = rsa_pem().strip().replace("\n", "\\n")
    assert "\n" not in one_line
    settings = Settings.from_env(env(GITHUB_PRIVATE_KEY=one_line))
    assert settings.private_key.reveal() == rsa_pem().strip()
    assert settings.private_key.reveal().startswith("-----BEGIN RSA PRIVATE KEY-----\n")


def test_pkcs8_rsa_key_is_accepted() -> None:
    key = serialization.load_pem_private_key(rsa_pem().encode(), password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    assert Settings.from_env(env(GITHUB_PRIVATE_KEY=pkcs8)).private_key.reveal() == pkcs8.strip()


def test_private_key_path_is_read(tmp_path: Path) -> None:
    path = tmp_path / "app.private-key.pem"
    path.write_text(rsa_pem(), encoding="ascii")
    settings = Settings.from_env(env(GITHUB_PRIVATE_KEY=None, GITHUB_PRIVATE_KEY_PATH=str(path)))
    assert settings.private_key.reveal() == rsa_pem()


def test_unreadable_private_key_path_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    message = error_for(env(GITHUB_PRIVATE_KEY=None, GITHUB_PRIVATE_KEY_PATH=str(missing)))
    assert message.startswith("GITHUB_PRIVATE_KEY_PATH")
    assert str(missing) in message


def test_private_key_path_with_garbage_is_named(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("not a key\n", encoding="ascii")
    message = error_for(env(GITHUB_PRIVATE_KEY=None, GITHUB_PRIVATE_KEY_PATH=str(path)))
    assert message.startswith("GITHUB_PRIVATE_KEY_PATH")
    assert "PEM private key" in message


def test_both_key_variables_set_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text(rsa_pem(), encoding="ascii")
    message = error_for(env(GITHUB_PRIVATE_KEY_PATH=str(path)))
    assert "GITHUB_PRIVATE_KEY" in message
    assert "GITHUB_PRIVATE_KEY_PATH" in message
    assert "not both" in message


def public_pem() -> str:
    key = serialization.load_pem_private_key(rsa_pem().encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


@pytest.mark.parametrize(
    "value",
    [
        "hello-not-a-key",
        "-----BEGIN RSA PRIVATE KEY-----\nAAAAtruncated\n-----END RSA PRIVATE KEY-----\n",
        pytest.param("PUBLIC", id="public-key-pasted-by-mistake"),
    ],
)
def test_malformed_private_key_is_named(value: str) -> None:
    if value == "PUBLIC":
        value = public_pem()
    message = error_for(env(GITHUB_PRIVATE_KEY=value))
    assert message.startswith("GITHUB_PRIVATE_KEY ")
    assert "PEM private key" in message
    # The message never repeats the value it rejected (it could be a real key, slightly off).
    assert "hello-not-a-key" not in message
    assert "AAAAtruncated" not in message
    assert public_pem().splitlines()[1] not in message


def test_encrypted_private_key_is_rejected() -> None:
    key = serialization.load_pem_private_key(rsa_pem().encode(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode("ascii")
    message = error_for(env(GITHUB_PRIVATE_KEY=encrypted))
    assert message.startswith("GITHUB_PRIVATE_KEY ")
    assert "without a passphrase" in message


def test_non_rsa_key_is_rejected() -> None:
    message = error_for(env(GITHUB_PRIVATE_KEY=ec_pem()))
    assert message.startswith("GITHUB_PRIVATE_KEY ")
    assert "RSA" in message


def test_non_rsa_key_from_path_names_the_path_variable(tmp_path: Path) -> None:
    path = tmp_path / "ec.pem"
    path.write_text(ec_pem(), encoding="ascii")
    message = error_for(env(GITHUB_PRIVATE_KEY=None, GITHUB_PRIVATE_KEY_PATH=str(path)))
    assert message.startswith("GITHUB_PRIVATE_KEY_PATH ")
    assert "RSA" in message


# --- secrets never show -------------------------------------------------------------------


def test_secrets_are_absent_from_repr_and_str() -> None:
    settings = Settings.from_env(env())
    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert WEBHOOK_SECRET not in text
        assert pem_body_line() not in text
        assert "PRIVATE KEY" not in text
        # The non-secret fields still show, so the repr stays useful in logs.
        assert "12345" in text
        assert "api.github.com" in text


def test_secret_wrapper_hides_its_value_everywhere() -> None:
    secret = Secret(WEBHOOK_SECRET)
    assert WEBHOOK_SECRET not in repr(secret)
    assert WEBHOOK_SECRET not in str(secret)
    assert WEBHOOK_SECRET not in f"{secret}"
    assert WEBHOOK_SECRET not in repr([secret, {"k": secret}])
    assert secret.reveal() == WEBHOOK_SECRET


def test_secret_equality_compares_values() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert len({Secret("a"), Secret("a"), Secret("b")}) == 2


def test_errors_never_contain_the_webhook_secret() -> None:
    message = error_for(env(GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET, GITHUB_PRIVATE_KEY="junk"))
    assert WEBHOOK_SECRET not in message


def test_settings_are_immutable() -> None:
    settings = Settings.from_env(env())
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_stop_grace_defaults_below_dockers_stop_timeout_and_is_checked() -> None:
    assert Settings.from_env(env()).stop_grace == 8.0
    assert Settings.from_env(env(LADDER_STOP_GRACE="25")).stop_grace == 25.0
    with pytest.raises(SettingsError, match="LADDER_STOP_GRACE must be between 0 and 600"):
        Settings.from_env(env(LADDER_STOP_GRACE="601"))
