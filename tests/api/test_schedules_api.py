"""Schedules over HTTP on both databases: who is on call around hand-offs and DST changes in
America/New_York, the shifts over a window, overrides made at run time, and secret iCal feeds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.support.harness import Harness, running

PROBLEM = "application/problem+json"

CONFIG = """\
teams:
  - {id: payments, name: Payments, members: [alice, bob, carol]}
users:
  - {id: alice, name: Alice, email: alice@example.com, time_zone: America/New_York}
  - {id: bob, name: Bob, email: bob@example.com, time_zone: America/New_York}
  - {id: carol, name: Carol, email: carol@example.com, time_zone: Europe/Berlin}
  - {id: dave, name: Dave, email: dave@example.com, time_zone: America/New_York}
  - {id: erin, name: Erin, email: erin@example.com, time_zone: America/New_York}
schedules:
  # The issue's example, as written there (no name: it defaults to the id).
  - id: payments-primary
    time_zone: America/New_York
    layers:
      - rotation: {type: daily, handoff: "09:00", start: "2026-03-01"}
        users: [alice, bob, carol]
        restrictions: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}]
    overrides:
      - {user: dave, from: "2026-03-10T00:00:00-05:00", to: "2026-03-11T00:00:00-05:00"}
      - {user: erin, replaces: alice,
         from: "2026-03-12T09:00:00-05:00", to: "2026-03-13T09:00:00-05:00"}
      - {remove: bob, from: "2026-03-14T00:00:00-05:00", to: "2026-03-15T00:00:00-05:00"}
  # Around the clock, handed off at 09:00 New York time every day.
  - id: nyc-daily
    name: NYC daily
    time_zone: America/New_York
    layers:
      - rotation: {type: daily, handoff: "09:00", start: "2026-03-01"}
        users: [alice, bob, carol]
"""
# nyc-daily turns: Mar 1 alice, 2 bob, 3 carol, ... 7 alice, 8 bob (New York springs forward on
# Sunday 8 March 2026, 02:00 EST -> 03:00 EDT), 9 carol, 10 alice.


@pytest.fixture
def wk(db_url: str) -> Iterator[Harness]:
    with running(db_url, CONFIG) as h:
        yield h


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Any, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body.get("field") == field, body
    return body


def oncall(wk: Harness, schedule: str, at: str | None = None) -> dict[str, Any]:
    params = {"at": at} if at is not None else {}
    result: dict[str, Any] = ok(
        wk.api("GET", f"/api/v1/schedules/{schedule}/oncall", params=params)
    )
    return result


def hours(shift: dict[str, Any]) -> float:
    span = datetime.fromisoformat(shift["end"]) - datetime.fromisoformat(shift["start"])
    return span / timedelta(hours=1)


def test_who_is_on_call_around_a_handoff(wk: Harness) -> None:
    assert oncall(wk, "nyc-daily", "2026-03-03T08:59:59-05:00")["users"] == ["bob"]
    at_handoff = oncall(wk, "nyc-daily", "2026-03-03T09:00:00-05:00")
    assert at_handoff["users"] == ["carol"]
    (shift,) = at_handoff["shifts"]
    assert shift == {
        "user": "carol",
        "start": "2026-03-03T09:00:00-05:00",
        "end": "2026-03-04T09:00:00-05:00",
        "sources": ["layers[0]"],
    }
    # The same instant written in UTC, and with the "+" of the offset lost in a query string.
    assert oncall(wk, "nyc-daily", "2026-03-03T14:00:00Z")["users"] == ["carol"]
    assert oncall(wk, "nyc-daily", "2026-03-03T15:00:00 01:00")["users"] == ["carol"]


def test_handoff_stays_at_nine_local_across_spring_forward(wk: Harness) -> None:
    # 13:30 UTC on 8 March is 09:30 EDT: bob has taken over, although the day before the
    # hand-off was at 14:00 UTC.
    assert oncall(wk, "nyc-daily", "2026-03-08T12:59:59Z")["users"] == ["alice"]
    sunday = oncall(wk, "nyc-daily", "2026-03-08T13:30:00Z")
    assert sunday["users"] == ["bob"]
    assert sunday["at"] == "2026-03-08T09:30:00-04:00"
    saturday = oncall(wk, "nyc-daily", "2026-03-07T12:00:00-05:00")
    (shift,) = saturday["shifts"]
    assert (shift["start"], shift["end"]) == (
        "2026-03-07T09:00:00-05:00",
        "2026-03-08T09:00:00-04:00",
    )
    assert hours(shift) == 23


def test_autumn_shift_is_25_hours(wk: Harness) -> None:
    # New York falls back on Sunday 1 November 2026 (02:00 EDT -> 01:00 EST).
    data = ok(
        wk.api(
            "GET",
            "/api/v1/schedules/nyc-daily/shifts",
            params={"from": "2026-10-31T09:00:00-04:00", "to": "2026-11-02T09:00:00-05:00"},
        )
    )
    assert [hours(s) for s in data["shifts"]] == [25, 24]
    assert data["shifts"][0]["end"] == "2026-11-01T09:00:00-05:00"


def test_nobody_on_call_is_an_empty_list(wk: Harness) -> None:
    # payments-primary is staffed on weekdays 09:00-18:00 only.
    assert oncall(wk, "payments-primary", "2026-03-03T12:00:00-05:00")["users"] == ["carol"]
    evening = oncall(wk, "payments-primary", "2026-03-03T18:00:00-05:00")
    assert evening["users"] == [] and evening["shifts"] == []
    assert oncall(wk, "payments-primary", "2026-03-07T12:00:00-05:00")["users"] == []  # Saturday


def test_the_issues_overrides_apply(wk: Harness) -> None:
    tuesday = oncall(wk, "payments-primary", "2026-03-10T12:00:00-04:00")
    assert tuesday["users"] == ["alice", "dave"]
    assert [s["sources"] for s in tuesday["shifts"]] == [["layers[0]"], ["overrides[0]"]]
    # Friday 13th, 09:30 EDT: erin stands in for alice until 10:00 EDT (09:00 EST).
    assert oncall(wk, "payments-primary", "2026-03-13T09:30:00-04:00")["users"] == ["erin"]
    assert oncall(wk, "payments-primary", "2026-03-13T10:00:00-04:00")["users"] == ["alice"]


def test_default_instant_is_the_runtime_clock(wk: Harness) -> None:
    wk.clock.set(datetime.fromisoformat("2026-03-08T08:30:00-04:00"))
    now = oncall(wk, "nyc-daily")
    assert now["users"] == ["alice"] and now["at"] == "2026-03-08T08:30:00-04:00"
    wk.clock.advance(timedelta(minutes=30))
    assert oncall(wk, "nyc-daily")["users"] == ["bob"]


def test_shifts_over_a_window(wk: Harness) -> None:
    data = ok(
        wk.api(
            "GET",
            "/api/v1/schedules/nyc-daily/shifts",
            params={"from": "2026-03-06T00:00:00-05:00", "to": "2026-03-10T00:00:00-04:00"},
        )
    )
    assert data["from"] == "2026-03-06T00:00:00-05:00"
    got = [(s["user"], s["start"], s["end"]) for s in data["shifts"]]
    assert got == [
        ("bob", "2026-03-06T00:00:00-05:00", "2026-03-06T09:00:00-05:00"),  # clipped
        ("carol", "2026-03-06T09:00:00-05:00", "2026-03-07T09:00:00-05:00"),
        ("alice", "2026-03-07T09:00:00-05:00", "2026-03-08T09:00:00-04:00"),
        ("bob", "2026-03-08T09:00:00-04:00", "2026-03-09T09:00:00-04:00"),
        ("carol", "2026-03-09T09:00:00-04:00", "2026-03-10T00:00:00-04:00"),  # clipped
    ]


def test_bad_requests_name_the_field(wk: Harness) -> None:
    base = "/api/v1/schedules/nyc-daily"
    problem(wk.api("GET", f"{base}/oncall", params={"at": "yesterday"}), 422, "at")
    body = problem(wk.api("GET", f"{base}/oncall", params={"at": "2026-03-08T09:00"}), 422, "at")
    assert "offset" in body["detail"]
    window = {"from": "2026-03-01T00:00:00Z", "to": "2026-06-02T00:00:00Z"}  # 93 days
    body = problem(wk.api("GET", f"{base}/shifts", params=window), 422, "to")
    assert "92 days" in body["allowed"]
    backwards = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
    problem(wk.api("GET", f"{base}/shifts", params=backwards), 422, "to")
    problem(wk.api("GET", f"{base}/shifts", params={"to": "2026-03-01T00:00:00Z"}), 422, "from")
    body = problem(wk.api("GET", "/api/v1/schedules/nope/oncall"), 404, "schedule_id")
    assert "nyc-daily" in body["allowed"]
    problem(wk.api("GET", "/api/v1/schedules/nope"), 404, "schedule_id")
    problem(wk.client.get(f"{base}/oncall"), 401, "Authorization")


def test_list_and_show(wk: Harness) -> None:
    wk.clock.set(datetime.fromisoformat("2026-03-10T12:00:00-04:00"))
    listed = ok(wk.api("GET", "/api/v1/schedules"))["schedules"]
    assert [(s["id"], s["name"], s["on_call"]) for s in listed] == [
        ("nyc-daily", "NYC daily", ["alice"]),
        ("payments-primary", "payments-primary", ["alice", "dave"]),
    ]
    shown = ok(wk.api("GET", "/api/v1/schedules/payments-primary"))
    assert shown["time_zone"] == "America/New_York"
    assert shown["layers"][0]["users"] == ["alice", "bob", "carol"]
    assert [(o["source"], o["kind"]) for o in shown["overrides"]] == [
        ("overrides[0]", "add"),
        ("overrides[1]", "replace"),
        ("overrides[2]", "remove"),
    ]
    assert shown["overrides"][2]["remove"] == "bob"
    assert shown["runtime_overrides"] == [] and shown["on_call"] == ["alice", "dave"]


def test_runtime_override_changes_the_answer_and_deleting_it_restores_it(wk: Harness) -> None:
    at = "2026-03-08T10:00:00-04:00"
    assert oncall(wk, "nyc-daily", at)["users"] == ["bob"]
    created = ok(
        wk.api(
            "POST",
            "/api/v1/schedules/nyc-daily/overrides",
            json={
                "user": "erin",
                "replaces": "bob",
                "from": "2026-03-08T09:30:00-04:00",
                "to": "2026-03-08T12:00:00-04:00",
            },
        ),
        201,
    )
    assert created["kind"] == "replace" and created["created_by"] == "admin"
    assert created["from"] == "2026-03-08T09:30:00-04:00"
    answer = oncall(wk, "nyc-daily", at)
    assert answer["users"] == ["erin"]
    assert answer["shifts"][0]["sources"] == [f"override:{created['id']}"]
    assert (answer["shifts"][0]["start"], answer["shifts"][0]["end"]) == (
        "2026-03-08T09:30:00-04:00",
        "2026-03-08T12:00:00-04:00",
    )
    shown = ok(wk.api("GET", "/api/v1/schedules/nyc-daily"))
    assert [o["id"] for o in shown["runtime_overrides"]] == [created["id"]]

    deleted = ok(wk.api("DELETE", f"/api/v1/schedules/nyc-daily/overrides/{created['id']}"))
    assert deleted["id"] == created["id"]
    assert oncall(wk, "nyc-daily", at)["users"] == ["bob"]
    missing = wk.api("DELETE", f"/api/v1/schedules/nyc-daily/overrides/{created['id']}")
    problem(missing, 404, "override_id")


@pytest.mark.parametrize(
    ("body", "users"),
    [
        ({"user": "dave"}, ["bob", "dave"]),
        ({"remove": "bob"}, []),
        ({"swap": ["alice", "bob"]}, ["alice"]),
    ],
    ids=["add", "remove", "swap"],
)
def test_every_override_shape_at_run_time(
    wk: Harness, body: dict[str, Any], users: list[str]
) -> None:
    window = {"from": "2026-03-08T09:00:00-04:00", "to": "2026-03-09T09:00:00-04:00"}
    ok(wk.api("POST", "/api/v1/schedules/nyc-daily/overrides", json={**body, **window}), 201)
    assert oncall(wk, "nyc-daily", "2026-03-08T15:00:00-04:00")["users"] == users
    # A swap is simultaneous: alice's own turn the day before goes to bob only inside the window.
    assert oncall(wk, "nyc-daily", "2026-03-08T08:00:00-04:00")["users"] == ["alice"]


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"user": "zed"}, "user", "unknown user 'zed'"),
        ({"remove": True}, "remove", "names the user"),
        ({"remove": "dave"}, "remove", "never on call"),
        ({"swap": ["alice"]}, "swap", "at least 2"),
        ({"swap": ["alice", "alice"]}, "swap", "two different users"),
        ({"swap": ["alice", "zed"]}, "swap[1]", "unknown user"),
        ({"user": "dave", "remove": "bob"}, None, "only `from` and `to`"),
        ({"replaces": "bob"}, None, "needs `user`"),
        ({}, None, "an override is one of"),
        ({"user": "dave", "colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_invalid_runtime_overrides_are_refused(
    wk: Harness, body: dict[str, Any], field: str | None, fragment: str
) -> None:
    window = {"from": "2026-03-08T09:00:00-04:00", "to": "2026-03-09T09:00:00-04:00"}
    response = wk.api("POST", "/api/v1/schedules/nyc-daily/overrides", json={**window, **body})
    found = problem(response, 422, field)
    assert fragment in found["detail"], found
    assert ok(wk.api("GET", "/api/v1/schedules/nyc-daily"))["runtime_overrides"] == []


def test_runtime_override_window_is_checked(wk: Harness) -> None:
    url = "/api/v1/schedules/nyc-daily/overrides"
    backwards = {"user": "dave", "from": "2026-03-09T00:00:00Z", "to": "2026-03-08T00:00:00Z"}
    assert "after `from`" in problem(wk.api("POST", url, json=backwards), 422, None)["detail"]
    naive = {"user": "dave", "from": "2026-03-08T00:00:00", "to": "2026-03-09T00:00:00Z"}
    problem(wk.api("POST", url, json=naive), 422, "from")
    past = {"user": "dave", "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
    problem(wk.api("POST", url, json=past), 422, "to")  # the clock is at 2 March 2026
    future = {"user": "dave", "from": "2026-03-08T00:00:00Z", "to": "2026-03-09T00:00:00Z"}
    problem(wk.api("POST", "/api/v1/schedules/nope/overrides", json=future), 404, "schedule_id")


def test_apply_leaves_runtime_overrides_alone(wk: Harness) -> None:
    window = {"from": "2026-03-08T09:00:00-04:00", "to": "2026-03-09T09:00:00-04:00"}
    ok(
        wk.api("POST", "/api/v1/schedules/nyc-daily/overrides", json={"user": "dave", **window}),
        201,
    )
    wk.apply(CONFIG)
    assert oncall(wk, "nyc-daily", "2026-03-08T15:00:00-04:00")["users"] == ["bob", "dave"]


def test_schedule_feed_works_without_auth_until_revoked(wk: Harness) -> None:
    wk.clock.set(datetime.fromisoformat("2026-03-05T12:00:00-05:00"))
    created = ok(wk.api("POST", "/api/v1/schedules/nyc-daily/feed"), 201)
    assert created["url"].endswith(f"/feeds/{created['token']}.ics")
    path = f"/feeds/{created['token']}.ics"
    feed = wk.client.get(path)  # no Authorization header
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    text = feed.text
    assert text.startswith("BEGIN:VCALENDAR") and "X-WR-CALNAME:On call: NYC daily" in text
    assert text.count("BEGIN:VEVENT") >= 90  # one a day, 30 days back and 92 ahead
    # The 23-hour shift over the spring-forward night, in UTC.
    assert "DTSTART:20260307T140000Z\r\nDTEND:20260308T130000Z" in text.replace(
        ";VALUE=DATE-TIME", ""
    )
    second = ok(wk.api("POST", "/api/v1/schedules/nyc-daily/feed"), 201)
    assert second["token"] != created["token"]
    revoked = ok(wk.api("DELETE", "/api/v1/schedules/nyc-daily/feed"))
    assert revoked["revoked"] == 2
    problem(wk.client.get(path), 404, "token")
    problem(wk.client.get(f"/feeds/{second['token']}.ics"), 404, "token")
    problem(wk.client.get("/feeds/not-a-token.ics"), 404, "token")


def test_user_feed_lists_their_shifts_across_schedules(wk: Harness) -> None:
    wk.clock.set(datetime.fromisoformat("2026-03-05T12:00:00-05:00"))
    created = ok(wk.api("POST", "/api/v1/users/alice/feed"), 201)
    text = wk.client.get(f"/feeds/{created['token']}.ics").text
    assert "X-WR-CALNAME:On call: Alice" in text
    assert "SUMMARY:On call: NYC daily" in text
    assert "SUMMARY:On call: payments-primary" in text
    # Only alice's shifts: in nyc-daily every third day from 1 March (the rotation's start) to
    # 92 days after now.
    assert text.count("SUMMARY:On call: NYC daily") == 33
    problem(wk.api("POST", "/api/v1/users/zed/feed"), 404, "user_id")
    ok(wk.api("DELETE", "/api/v1/users/alice/feed"))
    problem(wk.client.get(f"/feeds/{created['token']}.ics"), 404, "token")


def test_only_the_user_or_an_admin_manages_a_user_feed(wk: Harness) -> None:
    made = ok(wk.api("POST", "/api/v1/tokens", json={"user": "bob", "name": "bob"}), 201)
    as_bob = {"Authorization": f"Bearer {made['token']}"}
    problem(wk.client.post("/api/v1/users/alice/feed", headers=as_bob), 403, "user_id")
    problem(wk.client.delete("/api/v1/users/alice/feed", headers=as_bob), 403, "user_id")
    own = wk.client.post("/api/v1/users/bob/feed", headers=as_bob)
    assert own.status_code == 201, own.text
