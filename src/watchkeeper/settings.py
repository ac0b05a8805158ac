"""Process settings from the environment (WATCHKEEPER_*), read once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

SmtpTls = Literal["starttls", "required", "implicit", "none"]

DEFAULT_DB = "sqlite:///watchkeeper.db"


@dataclass(frozen=True, kw_only=True)
class Settings:
    db_url: str = DEFAULT_DB
    host: str = "127.0.0.1"
    port: int = 8080
    admin_token: str | None = None
    public_url: str | None = None
    secret_key: str = ""  # signs one-click action links; derived from the admin token if unset
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: SmtpTls = "starttls"
    smtp_from: str = "watchkeeper@localhost"
    # HTTP gateways for SMS and voice calls (JSON POST; the token goes in Authorization)
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None
    voice_gateway_url: str | None = None
    voice_gateway_token: str | None = None
    # how long an engine owns a notification it is sending; another engine retries it after
    delivery_lease_seconds: float = 30.0
    batch_max_rows: int = 2000
    engine_tick_seconds: float = 1.0
    event_retention_days: float = 0.0  # 0 keeps raw events for ever
    # PostgreSQL: server-side prepared statements (off for PgBouncer < 1.21 in transaction mode)
    pg_prepare: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def _switch(value: str | None, name: str, *, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in ("on", "true", "1", "yes"):
        return True
    if value.lower() in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{name}={value!r}: allowed values are on, off")


def from_env(env: dict[str, str] | None = None, **overrides: object) -> Settings:
    e = dict(os.environ if env is None else env)

    def get(name: str) -> str | None:
        value = e.get(f"WATCHKEEPER_{name}")
        return value if value not in (None, "") else None

    tls = get("SMTP_TLS") or "starttls"
    if tls not in ("starttls", "required", "implicit", "none"):
        raise ValueError(
            f"WATCHKEEPER_SMTP_TLS={tls!r}: allowed values are starttls, required, implicit, none"
        )
    values: dict[str, object] = {
        "db_url": get("DB") or DEFAULT_DB,
        "host": get("HOST") or "127.0.0.1",
        "port": int(get("PORT") or 8080),
        "admin_token": get("ADMIN_TOKEN"),
        "public_url": get("PUBLIC_URL"),
        "secret_key": get("SECRET_KEY") or get("ADMIN_TOKEN") or "",
        "smtp_host": get("SMTP_HOST"),
        "smtp_port": int(get("SMTP_PORT") or 25),
        "smtp_user": get("SMTP_USER"),
        "smtp_password": get("SMTP_PASSWORD"),
        "smtp_tls": tls,
        "smtp_from": get("SMTP_FROM") or "watchkeeper@localhost",
        "sms_gateway_url": get("SMS_GATEWAY_URL"),
        "sms_gateway_token": get("SMS_GATEWAY_TOKEN"),
        "voice_gateway_url": get("VOICE_GATEWAY_URL"),
        "voice_gateway_token": get("VOICE_GATEWAY_TOKEN"),
        "delivery_lease_seconds": float(get("DELIVERY_LEASE") or 30.0),
        "event_retention_days": float(get("EVENT_RETENTION_DAYS") or 0),
        "engine_tick_seconds": float(get("ENGINE_TICK_SECONDS") or 1.0),
        "pg_prepare": _switch(get("PG_PREPARE"), "WATCHKEEPER_PG_PREPARE", default=True),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)  # type: ignore[arg-type]
