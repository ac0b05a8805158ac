"""The official PagerDuty Python client (PyPI `pagerduty`) against a real Watchkeeper over TLS:
a user changes only the base URL and the routing key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pagerduty
import pytest
from tests.support.processes import ServerProcess, Servers, self_signed_cert, wait_for

PD_KEY = "0123456789abcdef0123456789abcdef"  # the `pd` integration of shop.yaml (payments-api)
UNKNOWN_KEY = "ffffffffffffffffffffffffffffffff"


@pytest.fixture(scope="module")
def server(
    module_db_url: str, module_servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> ServerProcess:
    """One TLS server per database for this module (each test uses its own dedup keys)."""
    cert, key = self_signed_cert(tmp_path_factory.mktemp("tls"))
    return module_servers.start(module_db_url, tls=(cert, key))


def events_client(server: ServerProcess, key: str = PD_KEY) -> pagerduty.EventsApiV2Client:
    """The client as a user builds it; it only speaks https, so it trusts our test certificate
    (its `verify` goes to the underlying HTTP client)."""
    client = pagerduty.EventsApiV2Client(key, base_url=server.base_url, verify=server.verify())
    client.max_network_attempts = 1  # a dead server fails the test quickly
    return client


def tickets(server: ServerProcess, after: int = 0) -> list[dict[str, Any]]:
    """The payments-api tickets with an id above `after`, oldest first."""
    response = server.api("GET", "/api/v1/tickets", params={"service": "payments-api"})
    assert response.status_code == 200, response.text
    return sorted((t for t in response.json()["tickets"] if t["id"] > after), key=lambda t: t["id"])


def last_ticket_id(server: ServerProcess) -> int:
    return max((t["id"] for t in tickets(server)), default=0)


def alerts(server: ServerProcess, dedup_key: str) -> list[dict[str, Any]]:
    response = server.api("GET", "/api/v1/alerts", params={"dedup_key": dedup_key})
    assert response.status_code == 200, response.text
    return sorted(response.json()["alerts"], key=lambda a: a["id"])


def unknown_rejections(server: ServerProcess) -> dict[str, Any]:
    response = server.api("GET", "/api/v1/integrations")
    assert response.status_code == 200, response.text
    return dict(response.json()["unknown_key_rejections"])


def test_the_client_refuses_plain_http_so_watchkeeper_must_serve_tls() -> None:
    with pytest.raises(pagerduty.UrlError):
        pagerduty.EventsApiV2Client(PD_KEY, base_url="http://127.0.0.1:9")


@pytest.mark.slow
def test_trigger_acknowledge_resolve_and_trigger_again(server: ServerProcess) -> None:
    before = last_ticket_id(server)
    with events_client(server) as client:
        key = client.trigger(
            "Payments API error rate above 5%",
            "payments-api-7f9c",
            dedup_key="payments/error-rate",
            severity="error",
            custom_details={"error_rate": 0.072, "region": "eu-west-1"},
            links=[{"href": "https://grafana.example.com/d/payments", "text": "Dashboard"}],
        )
        assert key == "payments/error-rate"
        [ticket] = tickets(server, before)
        assert ticket["status"] == "triggered"
        assert ticket["severity"] == "high"  # PagerDuty error -> high
        assert ticket["integration"] == "pd" and ticket["channel_kind"] == "automatic"
        [alert] = alerts(server, key)
        assert alert["status"] == "firing" and alert["ticket_id"] == ticket["id"]
        assert alert["details"]["error_rate"] == 0.072

        # A repeat of the same trigger is the same alert.
        client.trigger("Payments API error rate above 5%", "payments-api-7f9c", dedup_key=key)
        assert alerts(server, key)[0]["event_count"] == 2

        assert client.acknowledge(key) == key
        [ticket] = tickets(server, before)
        assert ticket["status"] == "acknowledged"
        assert ticket["acknowledged_by"] == "integration:pd"

        assert client.resolve(key) == key
        [ticket] = tickets(server, before)
        assert ticket["status"] == "resolved"
        assert alerts(server, key)[0]["status"] == "resolved"

        # After resolve, the same dedup key opens a new alert, and a new ticket.
        assert client.trigger("Payments API errors again", "payments-api-7f9c", dedup_key=key)
        first, second = tickets(server, before)
        assert first["id"] == ticket["id"] and first["status"] == "resolved"
        assert second["status"] == "triggered"
        old, new = alerts(server, key)
        assert old["status"] == "resolved" and old["ticket_id"] == first["id"]
        assert new["status"] == "firing" and new["ticket_id"] == second["id"]
        assert new["severity"] == "critical"  # the client's default severity

        # A trigger without a dedup key gets one generated and answered.
        generated = client.trigger("Card declines spike", "payments-api-7f9c")
        assert generated and generated != key
        assert [a["dedup_key"] for a in alerts(server, generated)] == [generated]


@pytest.mark.slow
def test_change_event_is_shown_beside_tickets(server: ServerProcess) -> None:
    before = last_ticket_id(server)
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    with events_client(server) as client:
        # The client's own default timestamp is broken in this version (it reads
        # datetime.timezone from the datetime class), so a timestamp is given.
        client.submit(
            "Deploy payments-api v2.31.0",
            source="ci/build-4711",
            custom_details={"commit": "9f1c2ab", "author": "alice"},
            links=[{"href": "https://ci.example.com/builds/4711", "text": "Build 4711"}],
            timestamp=stamp,
        )
    response = server.api("GET", "/api/v1/changes")
    assert response.status_code == 200, response.text
    [change] = [c for c in response.json()["changes"] if c["source"] == "ci/build-4711"]
    assert change["summary"] == "Deploy payments-api v2.31.0"
    assert change["source"] == "ci/build-4711"
    assert change["integration"] == "pd" and change["service"] == "payments-api"
    assert change["details"]["commit"] == "9f1c2ab"
    assert change["links"][0]["href"] == "https://ci.example.com/builds/4711"
    assert tickets(server, before) == []  # a change event never pages


@pytest.mark.slow
def test_unknown_routing_key_gets_pagerdutys_invalid_event_answer(server: ServerProcess) -> None:
    before = last_ticket_id(server)
    rejected_before = unknown_rejections(server)["count"]
    with events_client(server, UNKNOWN_KEY) as client, pytest.raises(pagerduty.HttpError) as caught:
        client.trigger("lost", "somewhere", dedup_key="lost-1")
    response = caught.value.response
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert isinstance(body["message"], str) and body["message"]
    assert any("routing_key" in e for e in body["errors"])
    assert tickets(server, before) == [] and alerts(server, "lost-1") == []

    def counted() -> dict[str, Any]:
        unknown = unknown_rejections(server)
        assert unknown["count"] == rejected_before + 1, unknown
        return unknown

    unknown = wait_for(counted, timeout=10, what="the unknown-key rejection to be counted")
    assert "routing_key" in unknown["last_error"]
    assert unknown["last_remote"] == "127.0.0.1"
