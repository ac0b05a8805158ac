"""Signed one-click action tokens (acknowledge, resolve) carried in notification links."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime
from typing import Final, Literal, get_args

import msgspec

from watchkeeper.clock import from_epoch

Action = Literal["acknowledge", "resolve"]

ACTIONS: Final[tuple[Action, ...]] = get_args(Action)
_BY_NAME: Final[dict[str, Action]] = {action: action for action in ACTIONS}
# Keeps these MACs apart from webhook signatures when an operator reuses one secret for both.
_DOMAIN: Final = b"watchkeeper-action-v1\x00"


class InvalidActionToken(Exception):
    """A token that is malformed, forged, or expired; the message says which."""


class ActionGrant(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: str
    action: Action
    expires_at: datetime


def sign_action(secret: bytes, ticket_id: str, action: Action, expires_at: datetime) -> str:
    """A URL-safe token that lets its holder perform `action` on `ticket_id` until `expires_at`."""
    _check_secret(secret)
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; allowed: {', '.join(ACTIONS)}")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    payload = f"{action}|{int(expires_at.timestamp())}|{ticket_id}".encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify_action(secret: bytes, token: str, *, now: datetime) -> ActionGrant:
    """The grant a token carries; raises InvalidActionToken when it is not genuine or expired."""
    _check_secret(secret)
    encoded_payload, dot, encoded_mac = token.partition(".")
    if not dot:
        raise InvalidActionToken("malformed token")
    try:
        payload = _unb64(encoded_payload)
        mac = _unb64(encoded_mac)
    except (binascii.Error, ValueError) as exc:
        raise InvalidActionToken("malformed token") from exc
    # Check the MAC before reading the payload: nothing forged is ever interpreted.
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise InvalidActionToken("bad signature")
    grant = _parse(payload)
    if now >= grant.expires_at:
        raise InvalidActionToken(f"expired at {grant.expires_at.isoformat()}")
    return grant


def _parse(payload: bytes) -> ActionGrant:
    try:
        name, expires, ticket_id = payload.decode().split("|", 2)
        expires_at = from_epoch(int(expires))
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise InvalidActionToken("malformed token") from exc
    action = _BY_NAME.get(name)
    if action is None:
        raise InvalidActionToken(f"unknown action {name!r}")
    return ActionGrant(ticket_id=ticket_id, action=action, expires_at=expires_at)


def _check_secret(secret: bytes) -> None:
    if len(secret) < 16:
        raise ValueError("the action signing secret must be at least 16 bytes")


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _DOMAIN + payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
