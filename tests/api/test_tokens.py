"""Tokens: the bootstrap admin makes a token that acts as a person."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.harness import Harness, running


@pytest.fixture
def wk(db_url: str) -> Iterator[Harness]:
    with running(db_url) as h:
        yield h


def test_a_token_made_for_alice_acts_as_alice(wk: Harness) -> None:
    made = wk.api("POST", "/api/v1/tokens", json={"user": "alice", "name": "laptop"})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    wk.generic(summary="disk full", dedup="disk", service="cart")
    ticket = wk.tickets()[0]
    as_alice = {"Authorization": f"Bearer {token}"}
    acked = wk.client.post(f"/api/v1/tickets/{ticket.id}/acknowledge", headers=as_alice)
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged_by"] == "alice"
    # a person's token is not an admin's
    refused = wk.client.post("/api/v1/tokens", json={"user": "bob"}, headers=as_alice)
    assert refused.status_code == 403


def test_a_token_for_an_unknown_person_is_refused_naming_the_field(wk: Harness) -> None:
    refused = wk.api("POST", "/api/v1/tokens", json={"user": "mallory"})
    assert refused.status_code == 422
    body = refused.json()
    assert body["field"] == "user" and "alice" in body["allowed"]


def test_a_revoked_token_no_longer_works(wk: Harness) -> None:
    made = wk.api("POST", "/api/v1/tokens", json={"user": "bob"}).json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert wk.client.get("/api/v1/tickets", headers=headers).status_code == 200
    assert wk.api("DELETE", f"/api/v1/tokens/{made['id']}").status_code == 200
    assert wk.client.get("/api/v1/tickets", headers=headers).status_code == 401
