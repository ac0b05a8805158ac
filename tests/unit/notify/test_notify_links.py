"""One-click action tokens: genuine ones grant exactly their action until they expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from notify_samples import START

from watchkeeper.notify.links import InvalidActionToken, sign_action, verify_action

SECRET = b"action-secret-0123456789abcdef"
EXPIRES = START + timedelta(hours=1)


def test_a_token_grants_its_ticket_and_action() -> None:
    token = sign_action(SECRET, "T-42|x", "acknowledge", EXPIRES)
    grant = verify_action(SECRET, token, now=START)
    assert (grant.ticket_id, grant.action, grant.expires_at) == ("T-42|x", "acknowledge", EXPIRES)


def test_tokens_are_url_safe() -> None:
    token = sign_action(SECRET, "T-1 / ä", "resolve", EXPIRES)
    assert all(c.isalnum() or c in "-_." for c in token)


def test_an_expired_token_is_refused() -> None:
    token = sign_action(SECRET, "T-42", "resolve", EXPIRES)
    with pytest.raises(InvalidActionToken, match="expired"):
        verify_action(SECRET, token, now=EXPIRES)


def test_a_token_for_another_ticket_cannot_be_made_by_editing() -> None:
    token = sign_action(SECRET, "T-42", "acknowledge", EXPIRES)
    other = sign_action(SECRET, "T-43", "resolve", EXPIRES)
    spliced = other.split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(InvalidActionToken, match="bad signature"):
        verify_action(SECRET, spliced, now=START)


def test_another_secret_is_refused() -> None:
    token = sign_action(SECRET, "T-42", "acknowledge", EXPIRES)
    with pytest.raises(InvalidActionToken, match="bad signature"):
        verify_action(b"another-secret-0123456789", token, now=START)


@pytest.mark.parametrize("token", ["", "nodot", "a.b", "!!!.???"], ids=str)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidActionToken):
        verify_action(SECRET, token, now=START)


def test_unknown_actions_and_short_secrets_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        sign_action(SECRET, "T-1", "delete", EXPIRES)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 16 bytes"):
        sign_action(b"short", "T-1", "resolve", EXPIRES)
