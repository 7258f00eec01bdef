"""One typed ``Settings`` object for the whole service.

Values come, in order of precedence, from constructor arguments, environment variables, a ``.env``
file in the working directory, Google Secret Manager when ``COPILOT_SECRET_MANAGER_SECRETS`` is set
(``copilot.core.secret_manager``), and secret files (``/run/secrets/<name>``, as Docker and Kubernetes
mount them; ``COPILOT_SECRETS_DIR`` points elsewhere). Names are the environment variables listed
in ``.env.example``. Outside ``development`` and ``test`` the service refuses to start with the
development signing secret, so a forgotten setting can never reach a plant.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

Environment = Literal["development", "test", "staging", "production"]
QueueBackend = Literal["inprocess", "redis", "pubsub"]
LogFormat = Literal["json", "console"]

DEV_JWT_SECRET = "development-only-signing-secret-do-not-deploy"
INSECURE_ENVIRONMENTS = ("development", "test")
DEFAULT_SECRETS_DIR = "/run/secrets"
MIN_SECRET_LENGTH = 32


def _env(name: str) -> Any:
    """Field alias: the documented environment variable (also accepted as a keyword argument)."""
    return Field(validation_alias=AliasChoices(name, name.lower()))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        case_sensitive=False,
    )

    env: Environment = Field("development", validation_alias=AliasChoices("COPILOT_ENV", "env"))
    jwt_secret: SecretStr = Field(
        SecretStr(DEV_JWT_SECRET), validation_alias=AliasChoices("COPILOT_JWT_SECRET", "jwt_secret")
    )
    jwt_leeway_s: int = Field(10, validation_alias=AliasChoices("COPILOT_JWT_LEEWAY_S", "jwt_leeway_s"))
    database_url: str = Field(
        "sqlite:///./var/copilot.db", validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL", "redis_url"))
    # A local folder, or a bucket URI (gs://bucket/prefix, served by copilot.storage.gcs).
    data_dir: str = Field("data", validation_alias=AliasChoices("COPILOT_DATA_DIR", "data_dir"))
    plant_config: Path | None = Field(None, validation_alias=AliasChoices("COPILOT_PLANT_CONFIG", "plant_config"))
    model_uri: str = Field("models/inspection-cnn.pt", validation_alias=AliasChoices("COPILOT_MODEL_URI", "model_uri"))
    queue_backend: QueueBackend = Field(
        "inprocess", validation_alias=AliasChoices("COPILOT_QUEUE_BACKEND", "queue_backend")
    )
    # Run analysis jobs inside the API process (default for the in-process queue); a separate
    # `python -m copilot.worker` consumes them when the queue is Redis or Pub/Sub.
    inprocess_worker: bool | None = Field(
        None, validation_alias=AliasChoices("COPILOT_INPROCESS_WORKER", "inprocess_worker")
    )
    llm_base_url: str | None = Field(None, validation_alias=AliasChoices("COPILOT_LLM_BASE_URL", "llm_base_url"))
    llm_model: str = Field("copilot-maintenance", validation_alias=AliasChoices("COPILOT_LLM_MODEL", "llm_model"))
    llm_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("COPILOT_LLM_API_KEY", "llm_api_key"))
    llm_timeout_s: float = Field(30.0, validation_alias=AliasChoices("COPILOT_LLM_TIMEOUT_S", "llm_timeout_s"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level"))
    log_format: LogFormat = Field("json", validation_alias=AliasChoices("LOG_FORMAT", "log_format"))

    # Limits and tuning (safe defaults; rarely changed).
    max_upload_bytes: int = Field(
        5 * 1024 * 1024, gt=0, validation_alias=AliasChoices("COPILOT_MAX_UPLOAD_BYTES", "max_upload_bytes")
    )
    max_image_pixels: int = Field(
        16_000_000, gt=0, validation_alias=AliasChoices("COPILOT_MAX_IMAGE_PIXELS", "max_image_pixels")
    )
    vision_max_batch: int = Field(
        16, ge=1, validation_alias=AliasChoices("COPILOT_VISION_MAX_BATCH", "vision_max_batch")
    )
    vision_batch_wait_ms: float = Field(
        2.0, ge=0, validation_alias=AliasChoices("COPILOT_VISION_BATCH_WAIT_MS", "vision_batch_wait_ms")
    )
    vision_device: str | None = Field(None, validation_alias=AliasChoices("COPILOT_VISION_DEVICE", "vision_device"))
    audit_queue_size: int = Field(
        10_000, ge=1, validation_alias=AliasChoices("COPILOT_AUDIT_QUEUE_SIZE", "audit_queue_size")
    )
    audit_batch_size: int = Field(
        500, ge=1, validation_alias=AliasChoices("COPILOT_AUDIT_BATCH_SIZE", "audit_batch_size")
    )
    # Where audit records go while the database cannot take them (replayed once it can): a writable
    # volume (emptyDir, tmpfs) where the root filesystem is read-only.
    audit_spill_dir: Path = Field(
        Path("var"), validation_alias=AliasChoices("COPILOT_AUDIT_SPILL_DIR", "audit_spill_dir")
    )
    job_workers: int = Field(2, ge=1, validation_alias=AliasChoices("COPILOT_JOB_WORKERS", "job_workers"))
    # Google Pub/Sub queue (COPILOT_QUEUE_BACKEND=pubsub); PUBSUB_EMULATOR_HOST points it at the emulator.
    gcp_project: str | None = Field(None, validation_alias=AliasChoices("GOOGLE_CLOUD_PROJECT", "gcp_project"))
    pubsub_topic: str = Field(
        "copilot-analysis-jobs", validation_alias=AliasChoices("COPILOT_PUBSUB_TOPIC", "pubsub_topic")
    )
    pubsub_subscription: str = Field(
        "copilot-analysis-workers", validation_alias=AliasChoices("COPILOT_PUBSUB_SUBSCRIPTION", "pubsub_subscription")
    )
    # The worker process (python -m copilot.worker): Prometheus port and heartbeat file for its health check.
    metrics_port: int | None = Field(None, validation_alias=AliasChoices("COPILOT_METRICS_PORT", "metrics_port"))
    worker_heartbeat: Path = Field(
        Path("/tmp/copilot-worker.heartbeat"),  # the tmpfs of the container
        validation_alias=AliasChoices("COPILOT_WORKER_HEARTBEAT", "worker_heartbeat"),
    )
    # How long a job message may stay unacknowledged before another worker takes it over (a worker
    # that died mid-job); Redis reclaims after this, Pub/Sub uses it as the ack deadline (10-600 s).
    job_retry_after_s: float = Field(
        60.0, gt=0, validation_alias=AliasChoices("COPILOT_JOB_RETRY_AFTER_S", "job_retry_after_s")
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        # Lab 06: Google Secret Manager when COPILOT_SECRET_MANAGER_SECRETS maps fields to secrets.
        from copilot.core.secret_manager import secret_manager_source

        secret_manager = secret_manager_source(settings_cls)
        if secret_manager is not None:
            sources.append(secret_manager)
        secrets_dir = os.environ.get("COPILOT_SECRETS_DIR", DEFAULT_SECRETS_DIR)
        if Path(secrets_dir).is_dir():  # absent on laptops; pydantic-settings would warn about it
            sources.append(SecretsSettingsSource(settings_cls, secrets_dir=secrets_dir))
        return tuple(sources)

    @model_validator(mode="after")
    def _refuse_insecure_secret(self) -> Settings:
        if self.env in INSECURE_ENVIRONMENTS:
            return self
        secret = self.jwt_secret.get_secret_value()
        if secret == DEV_JWT_SECRET:
            raise ValueError(
                f"COPILOT_JWT_SECRET is the development secret, which is refused in {self.env}; "
                "set COPILOT_JWT_SECRET or mount /run/secrets/copilot_jwt_secret"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"COPILOT_JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters in {self.env}")
        return self

    @property
    def run_inprocess_worker(self) -> bool:
        if self.inprocess_worker is not None:
            return self.inprocess_worker
        return self.queue_backend == "inprocess"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (``copilot.main:app`` uses these; tests pass their own)."""
    return Settings()
