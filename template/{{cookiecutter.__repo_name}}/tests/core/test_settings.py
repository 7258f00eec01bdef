"""Settings: environment, .env, secret files, and the refusal of the development secret."""

import pytest
from pydantic import ValidationError

from copilot.core.config import DEV_JWT_SECRET, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in ("COPILOT_ENV", "COPILOT_JWT_SECRET", "DATABASE_URL", "COPILOT_QUEUE_BACKEND", "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COPILOT_SECRETS_DIR", str(tmp_path / "no-secrets"))
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_run_without_configuration() -> None:
    settings = Settings()
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.queue_backend == "inprocess" and settings.run_inprocess_worker
    assert settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://copilot@db/copilot")
    monkeypatch.setenv("COPILOT_QUEUE_BACKEND", "redis")
    monkeypatch.setenv("LOG_FORMAT", "console")
    settings = Settings()
    assert settings.database_url == "postgresql://copilot@db/copilot"
    assert settings.queue_backend == "redis" and not settings.run_inprocess_worker
    assert settings.log_format == "console"


def test_dotenv_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("COPILOT_DATA_DIR=/srv/copilot/data\nLOG_LEVEL=DEBUG\n")
    settings = Settings()
    assert settings.data_dir == "/srv/copilot/data" and settings.log_level == "DEBUG"


def test_secret_files(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "copilot_jwt_secret").write_text("s" * 48)
    (secrets / "copilot_llm_api_key").write_text("sk-local-123")
    monkeypatch.setenv("COPILOT_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("COPILOT_ENV", "production")
    settings = Settings()
    assert settings.jwt_secret.get_secret_value() == "s" * 48
    assert settings.llm_api_key is not None and settings.llm_api_key.get_secret_value() == "sk-local-123"
    assert "sk-local" not in repr(settings)


@pytest.mark.parametrize("env", ["staging", "production"])
def test_development_secret_is_refused_outside_development(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.setenv("COPILOT_ENV", env)
    with pytest.raises(ValidationError, match="development secret"):
        Settings()


def test_short_secret_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_ENV", "production")
    monkeypatch.setenv("COPILOT_JWT_SECRET", "short")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings()


def test_unknown_queue_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_QUEUE_BACKEND", "kafka")
    with pytest.raises(ValidationError):
        Settings()
