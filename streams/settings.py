"""Settings: one typed, frozen object read once from the environment at start."""

from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")  # what redis-py's from_url opens
DEMO_HINT = "start a local stack with `insights demo --env-file .env` and `set -a; . ./.env`"


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names the variable and what to do."""


class Settings(BaseSettings):
    """Everything a worker, reader or CLI command needs to know, from `INSIGHTS_*` variables."""

    model_config = SettingsConfigDict(env_prefix="INSIGHTS_", frozen=True, extra="ignore")

    kafka_bootstrap: str | None = None
    redis_url: str | None = None
    redis_cluster: bool = False
    # A worker's Redis command that has not answered in this long counts as an outage: logged,
    # counted and retried (PFADD and ZADD make a retried write harmless). Without it a paused or
    # partitioned Redis would stall the worker silently. redis-py's own default is also 5 s.
    redis_timeout_s: float = Field(default=5.0, gt=0, le=300)
    topic_prefix: str = Field(default="insights", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    topic_partitions: int = Field(default=4, ge=1, le=1024)
    key_prefix: str = Field(default="ins", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    app_id: str = Field(default="insights-worker", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    retention_days: int = Field(default=400, ge=1, le=3660)
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    # Loopback by default; a container sets 0.0.0.0 so Prometheus can scrape it.
    worker_metrics_host: str = "127.0.0.1"
    # Kafka's own client defaults: safe against real brokers. The embedded broker holds the
    # first JoinGroup for about half the session timeout, so the demo and tests use 4 s / 0.5 s.
    # Kafka brokers refuse a session timeout above group.max.session.timeout.ms (30 min by
    # default), and a heartbeat must come more often than the session times out.
    session_timeout_s: float = Field(default=45.0, gt=0, le=1800, allow_inf_nan=False)
    heartbeat_interval_s: float = Field(default=3.0, gt=0, allow_inf_nan=False)
    commit_interval_s: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    # Identical reader requests within this many seconds share one document, served stale for
    # as long again while one refresh runs; token lookups are remembered as long (0: single
    # flight only, nothing remembered). Answers can be up to twice this older than Redis.
    reader_cache_s: float = Field(default=5.0, ge=0, allow_inf_nan=False)
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    # Most records one fetch hands an agent as one batch (one Redis round trip each way). Only a
    # backlog fills a batch, and then a bigger one shares each key's Redis call among more logins:
    # 40,000 against 10,000 cut Redis's CPU per single-event login by a fifth, for 10-15 MiB more
    # that a worker keeps after a backlog (PERFORMANCE.md, steps 36 to 38).
    fetch_max_records: int = Field(default=40_000, ge=1)
    # How long the broker may hold a fetch that finds nothing new. aiokafka sends one fetch per
    # broker at a time, so a fetch of idle topics delays the next logins fetch by as much.
    fetch_max_wait_s: float = Field(default=0.1, ge=0.001, le=30)
    # Login batches decoded and attributed while earlier ones are still being written: the
    # worker's CPU and Redis overlap. Each holds one partition's fetch (at most 4 MiB of records)
    # in memory, decoded; all of them are redelivered after a crash (PFADD makes that harmless).
    login_batches_in_flight: int = Field(default=4, ge=1, le=64)

    @model_validator(mode="after")
    def _heartbeat_within_session(self) -> "Settings":
        """A worker whose heartbeats come slower than its session times out is evicted between
        them, over and over: refused here, naming both variables (a default is checked too:
        INSIGHTS_SESSION_TIMEOUT_S=2 against the default heartbeat of 3 s)."""
        interval, session = self.heartbeat_interval_s, self.session_timeout_s
        if interval >= session:
            raise ValueError(
                f"INSIGHTS_HEARTBEAT_INTERVAL_S is invalid: {interval} s is not below "
                f"INSIGHTS_SESSION_TIMEOUT_S ({session} s); Kafka advises at most a third of it"
            )
        return self

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        """A URL redis-py cannot open fails here, where the error names the variable."""
        if url and not url.startswith(REDIS_SCHEMES):
            raise ValueError(f"{url!r} does not start with {', '.join(REDIS_SCHEMES)}")
        return url

    def kafka(self) -> str:
        """The bootstrap servers, or a clear error naming the variable."""
        if not self.kafka_bootstrap:
            raise SettingsError(f"INSIGHTS_KAFKA_BOOTSTRAP is not set: {DEMO_HINT}")
        return self.kafka_bootstrap

    def redis(self) -> str:
        """The Redis URL, or a clear error naming the variable."""
        if not self.redis_url:
            raise SettingsError(f"INSIGHTS_REDIS_URL is not set: {DEMO_HINT}")
        return self.redis_url


def load_settings() -> Settings:
    """Read and validate the environment once; a bad variable fails fast and names itself."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        if not first["loc"]:  # a check across settings, whose message names them itself
            raise SettingsError(str(first.get("ctx", {}).get("error", first["msg"]))) from error
        name = "INSIGHTS_" + str(first["loc"][0]).upper()
        raise SettingsError(f"{name} is invalid: {first['msg']}") from error
