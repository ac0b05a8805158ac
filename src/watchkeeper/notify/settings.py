"""Operator settings for delivery: the SMTP relay, outbound HTTP limits and SMS/voice gateways."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Final, Literal, get_args

import msgspec

from watchkeeper.errors import ConfigError

TlsMode = Literal["starttls", "required", "implicit", "none"]

TLS_MODES: Final[tuple[TlsMode, ...]] = get_args(TlsMode)
# msgspec says "Invalid enum value"; a person also needs to read what is allowed.
_ALLOWED: Final[dict[str, tuple[str, ...]]] = {"smtp.tls": TLS_MODES}

_DEFAULT_PORTS: dict[TlsMode, int] = {"starttls": 587, "required": 587, "implicit": 465, "none": 25}


class SmtpSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`tls`: starttls (use it when offered), required (fail when not offered), implicit (SMTP
    over TLS), none. `ca_file` trusts a private CA instead of the system store."""

    host: str = "localhost"
    port: int | None = None
    user: str | None = None
    password: str | None = None
    tls: TlsMode = "starttls"
    from_address: str = "watchkeeper@localhost"
    ca_file: str | None = None
    timeout: float = 10.0

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else _DEFAULT_PORTS[self.tls]


class Timeouts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Per-phase limits in seconds; together about ten seconds for a webhook that hangs."""

    connect: float = 3.0
    read: float = 5.0
    write: float = 3.0
    pool: float = 1.0


class OutboundSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`allow` lists CIDR networks that may be reached although they are not public."""

    allow: tuple[str, ...] = ()
    timeouts: Timeouts = msgspec.field(default_factory=Timeouts)
    ca_file: str | None = None


class GatewaySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An HTTP gateway for SMS or voice; `token` is sent as the value of `auth_header`."""

    url: str
    auth_header: str = "Authorization"
    token: str | None = None
    sender: str | None = None


class NotifySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    smtp: SmtpSettings | None = None
    outbound: OutboundSettings = msgspec.field(default_factory=OutboundSettings)
    sms: GatewaySettings | None = None
    voice: GatewaySettings | None = None


def load_settings(data: Mapping[str, Any], *, path: str = "") -> NotifySettings:
    """Build settings from parsed YAML; errors name the YAML path (under `path`)."""
    prefix = f"{path}." if path else ""
    try:
        settings = msgspec.convert(dict(data), NotifySettings)
    except msgspec.ValidationError as exc:
        text, _, where = str(exc).partition(" - at `")
        field = where.rstrip("`").removeprefix("$").lstrip(".")
        if field in _ALLOWED:
            text += f"; allowed: {', '.join(_ALLOWED[field])}"
        raise ConfigError([(f"{prefix}{field}" or path or "$", text)]) from exc
    errors: list[tuple[str, str]] = []
    for index, network in enumerate(settings.outbound.allow):
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            errors.append(
                (f"{prefix}outbound.allow[{index}]", f"{network!r} is not a CIDR network")
            )
    if errors:
        raise ConfigError(errors)
    return settings
