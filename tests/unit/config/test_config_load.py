"""The configuration file: the example loads, and every error is reported with its YAML path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from watchkeeper.config import Config, check_config, check_file, load_config, validate_config
from watchkeeper.config.schema import Silence
from watchkeeper.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "watchkeeper.yaml"

# A small valid configuration; each case below breaks one thing in a copy of it.
BASE: dict[str, Any] = {
    "teams": [{"id": "sre", "name": "SRE", "members": ["alice"]}],
    "users": [
        {
            "id": "alice",
            "name": "Alice",
            "email": "alice@shop.example",
            "time_zone": "Europe/Berlin",
            "team": "sre",
            "contacts": [{"id": "phone", "type": "sms", "phone": "+4915112345678"}],
            "notification_rules": [{"contact": "phone", "after": "0s"}],
        }
    ],
    "services": [
        {"id": "web", "name": "Web", "team": "sre", "depends_on": ["db"], "escalation_policy": "p"},
        {"id": "db", "name": "DB", "team": "sre"},
    ],
    "channels": [{"id": "prom", "name": "Prometheus", "kind": "automatic"}],
    "integrations": [
        {
            "id": "am",
            "name": "Alertmanager",
            "type": "alertmanager",
            "key": "am-key-0123456789abcdef",
            "channel": "prom",
            "service": "web",
            "routes": [{"match": ['job="postgres"'], "service": "db"}],
        },
        {
            "id": "pd",
            "name": "PagerDuty",
            "type": "pagerduty",
            "key": "0123456789abcdef0123456789abcdef",
            "channel": "prom",
            "service": "web",
        },
    ],
    "schedules": [
        {
            "id": "primary",
            "name": "Primary",
            "time_zone": "Europe/Berlin",
            "layers": [
                {
                    "rotation": {"type": "weekly", "handoff": "09:00", "start": "2026-03-02"},
                    "users": ["alice"],
                }
            ],
        }
    ],
    "escalation_policies": [
        {
            "id": "p",
            "name": "P",
            "levels": [{"role": "first-line", "targets": ["schedule:primary"], "delay": "10m"}],
        }
    ],
}


def _errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    return check_config(yaml.safe_dump(data, sort_keys=False), source="test.yaml")


def test_base_is_valid() -> None:
    assert _errors(BASE) == []


def test_example_loads() -> None:
    assert check_file(EXAMPLE) == []
    config = load_config(EXAMPLE.read_text(), source=str(EXAMPLE))
    assert {"web-frontend", "checkout", "payments", "orders-db"} <= {s.id for s in config.services}
    types = {i.type for i in config.integrations}
    assert types == {
        "pagerduty",
        "alertmanager",
        "grafana",
        "opsgenie",
        "generic",
        "cloudevents",
        "heartbeat",
        "feedback",
    }
    roles = {level.role for p in config.escalation_policies for level in p.levels}
    assert {"first-line", "second-line", "leader"} <= roles
    assert config.objectives and config.filters and config.maintenance_windows


def test_example_survives_a_json_round_trip() -> None:
    """What storage keeps (`model_dump(mode="json")`) reads back to the same configuration."""
    config = load_config(EXAMPLE.read_text(), source="example")
    document = config.model_dump(mode="json")
    assert validate_config(document) == config
    assert document["silences"][0]["for"] == "6h"
    assert document["escalation_policies"][0]["levels"][0]["targets"] == ["schedule:sre-primary"]


def test_typed_values() -> None:
    config = load_config(EXAMPLE.read_text(), source="example")
    checkout = next(s for s in config.services if s.id == "checkout")
    assert checkout.max_group_age == timedelta(hours=12)
    assert checkout.group_by.render({"service": "checkout", "labels": {"region": "eu"}}) == (
        "checkout/eu"
    )
    web = next(s for s in config.services if s.id == "web-frontend")
    assert web.group_by.render({"service": "web-frontend"}) == "web-frontend"  # the default
    layer = config.schedules[0].layers[0]
    assert layer.rotation.handoff == time(9, 0)
    target = config.escalation_policies[0].levels[0].targets[0]
    assert (target.kind, target.id) == ("schedule", "sre-primary")
    route = config.integrations[0].routes[0]
    assert route.match[0].matches({"job": "postgres-orders"})
    alice = config.users[0]
    assert [c.is_paging for c in alice.contacts] == [False, True, True]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets `a.b[0].c` (a missing last key is added)."""

    def apply(data: dict[str, Any]) -> None:
        parts = path.replace("[", ".[").split(".")
        target: Any = data
        for part in parts[:-1]:
            target = target[int(part[1:-1])] if part.startswith("[") else target[part]
        last = parts[-1]
        if last.startswith("["):
            target[int(last[1:-1])] = value
        else:
            target[last] = value

    return apply


def _append(section: str, item: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.setdefault(section, []).append(item)


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    # (id, mutation, expected path, part of the message)
    ("typo-key", _set("services[0].tema", "sre"), "services[0].tema", "did you mean 'team'"),
    ("unknown-section", _set("service", []), "service", "did you mean 'services'"),
    ("unknown-team", _set("services[1].team", "platform"), "services[1].team", "unknown team"),
    ("bad-zone", _set("users[0].time_zone", "Europe/Berln"), "users[0].time_zone", "Europe/Berlin"),
    ("bad-duration", _set("services[0].max_group_age", "1 day"), "services[0].max_group_age",
     "not understood"),
    ("duplicate-id", _append("services", {"id": "db", "name": "DB2", "team": "sre"}),
     "services[2].id", "duplicate id 'db' (also services[1])"),
    ("bad-matcher", _set("integrations[0].routes[0].match[0]", "job=~\"(\""),
     "integrations[0].routes[0].match[0]", "is invalid"),
    ("pagerduty-key-length", _set("integrations[1].key", "0123456789abcdef"),
     "integrations[1].key", "exactly 32"),
    ("short-key", _set("integrations[0].key", "short"), "integrations[0].key", "16-128"),
    ("same-key", _set("integrations[1].key", "am-key-0123456789abcdef"), "integrations[1].key",
     "the same key as integrations[0]"),
    ("missing-field", lambda d: d["services"][1].pop("team"), "services[1].team", "is required"),
    ("wrong-literal", _set("channels[0].kind", "robot"), "channels[0].kind", "'automatic'"),
    ("self-dependency", _set("services[1].depends_on", ["db"]), "services[1].depends_on[0]",
     "cannot depend on itself"),
    ("cycle", _set("services[1].depends_on", ["web"]), "services[0].depends_on",
     "dependency cycle: web → db → web"),
    ("unknown-dependency", _set("services[0].depends_on", ["dbb"]), "services[0].depends_on[0]",
     "did you mean 'db'"),
    ("unknown-policy", _set("services[0].escalation_policy", "nope"),
     "services[0].escalation_policy", "unknown escalation policy"),
    ("unknown-channel", _set("integrations[0].channel", "grafana"), "integrations[0].channel",
     "unknown channel"),
    ("unknown-route-service", _set("integrations[0].routes[0].service", "cache"),
     "integrations[0].routes[0].service", "unknown service"),
    ("unknown-contact", _set("users[0].notification_rules[0].contact", "pager"),
     "users[0].notification_rules[0].contact", "no contact 'pager'"),
    ("unknown-member", _set("teams[0].members", ["alice", "zed"]), "teams[0].members[1]",
     "unknown user"),
    ("unknown-target", _set("escalation_policies[0].levels[0].targets", ["user:zed"]),
     "escalation_policies[0].levels[0].targets[0]", "unknown user 'zed'"),
    ("bad-target", _set("escalation_policies[0].levels[0].targets", ["robot:x"]),
     "escalation_policies[0].levels[0].targets[0]", "user:ID, schedule:ID or team:ID"),
    ("unknown-schedule-user", _set("schedules[0].layers[0].users", ["zed"]),
     "schedules[0].layers[0].users[0]", "unknown user"),
    ("bad-handoff", _set("schedules[0].layers[0].rotation.handoff", "25:00"),
     "schedules[0].layers[0].rotation.handoff", "HH:MM"),
    ("custom-needs-length", _set("schedules[0].layers[0].rotation.type", "custom"),
     "schedules[0].layers[0].rotation", "needs `length`"),
    ("bad-template", _set("integrations[0].dedup", "{labels.x}/{foo}"), "integrations[0].dedup",
     "placeholder {foo} is unknown"),
    ("bad-expression", _set("integrations[0].routes[0]", {"expression": "nope ==",
     "service": "db"}), "integrations[0].routes[0].expression", "does not parse"),
    ("route-without-condition", _set("integrations[0].routes[0]", {"service": "db"}),
     "integrations[0].routes[0]", "needs `match` or `expression`"),
    ("heartbeat-needs-interval", _set("integrations[0].type", "heartbeat"), "integrations[0]",
     "needs `interval`"),
    ("bad-email", _set("users[0].email", "alice"), "users[0].email", "not an email address"),
    ("bad-phone", _set("users[0].contacts[0].phone", "0151 12345678"), "users[0].contacts[0].phone",
     "E.164"),
    ("contact-wrong-field", _set("users[0].contacts[0]", {"id": "m", "type": "email",
     "url": "https://x.example"}), "users[0].contacts[0]", "needs `address`"),
    ("bad-cidr", _set("outbound", {"allow": ["10.0.0.0/33"]}), "outbound.allow[0]",
     "not valid CIDR"),
    ("section-not-list", _set("teams", {"id": "sre"}), "teams", "must be a list"),
    ("item-not-mapping", _set("channels", ["prom"]), "channels[0]", "must be a mapping"),
    ("naive-time", _append("silences", {"id": "s", "match": ["a=b"], "starts": "2026-03-02T10:00",
     "for": "1h", "comment": "c", "author": "alice"}), "silences[0].starts", "no UTC offset"),
    ("silence-matches-everything", _append("silences", {"id": "s", "match": ['a=~".*"'],
     "for": "1h", "comment": "c", "author": "a"}), "silences[0]", "would silence everything"),
    ("silence-ends-and-for", _append("silences", {"id": "s", "match": ["a=b"], "for": "1h",
     "ends": "2026-03-02T10:00:00Z", "comment": "c", "author": "a"}), "silences[0]",
     "exactly one of `ends` and `for`"),
    ("rule-level-out-of-range", _set("escalation_policies[0].rules", [{"severity": ["info"],
     "action": {"level": 3}}]), "escalation_policies[0].rules[0].action.level",
     "level 3 does not exist"),
    ("rule-needs-zone", _set("escalation_policies[0].rules", [{"off_hours": True,
     "action": {"wait_until_business_hours": True}}]), "escalation_policies[0]", "`time_zone`"),
    ("bad-statistic", _append("objectives", {"id": "o", "title": "T", "key_results": [{"id": "k",
     "metric": "ttr", "statistic": "rate", "baseline": {"from": "2026-01-01", "to": "2026-03-31"},
     "target": {"relative": "-30%"}, "deadline": "2026-06-30"}]}), "objectives[0].key_results[0]",
     "use median or p90"),
    ("unknown-metric", _append("objectives", {"id": "o", "title": "T", "key_results": [{"id": "k",
     "metric": "mttr", "statistic": "median", "baseline": {"from": "2026-01-01",
     "to": "2026-03-31"}, "target": {"relative": "-30%"}, "deadline": "2026-06-30"}]}),
     "objectives[0].key_results[0].metric", "'ttr'"),
    ("slo-objective-range", _append("slos", {"id": "s", "service": "web", "name": "S",
     "objective": 100, "window": "28d", "sli": {}}), "slos[0].objective", "less than 100"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_error_names_its_path(
    mutate: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    data = copy.deepcopy(BASE)
    mutate(data)
    errors = _errors(data)
    assert errors, "the broken file was accepted"
    found = [m for p, m in errors if p == path]
    assert found, f"no error at {path}; got {errors}"
    assert any(message in m for m in found), found


BROKEN = """\
teams:
  - id: sre
    name: SRE
    membres: [alice]
users:
  - id: alice
    name: Alice
    email: alice@shop.example
    time_zone: Mars/Olympus
    contacts:
      - {id: phone, type: sms, phone: "+4915112345678"}
    notification_rules:
      - {contact: pager, after: 5 minutes}
services:
  - {id: web, name: Web, team: platform}
  - {id: web, name: Web again, team: sre}
channels:
  - {id: prom, name: Prometheus, kind: automatic}
integrations:
  - id: pd
    name: PagerDuty
    type: pagerduty
    key: too-short-for-pagerduty
    channel: promm
    service: web
    routes:
      - {match: ['alertname=~"Disk(.*"'], service: web}
"""


def test_broken_file_reports_every_error_with_path_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(BROKEN, source="broken.yaml")
    got = {path: message for path, message in caught.value.errors}
    expected = {
        "teams[0].membres": ("unknown key 'membres'", 4),
        "users[0].time_zone": ("unknown time zone 'Mars/Olympus'", 9),
        "users[0].notification_rules[0].after": ("'5 minutes' is not understood", 13),
        # Reported although the same user also has other errors:
        "users[0].notification_rules[0].contact": ("no contact 'pager'", 13),
        "services[0].team": ("unknown team 'platform'", 15),
        "services[1].id": ("duplicate id 'web'", 16),
        "integrations[0].key": ("exactly 32", 23),
        "integrations[0].channel": ("did you mean 'prom'", 24),
        "integrations[0].routes[0].match[0]": ("'Disk(.*' of 'alertname' is invalid", 27),
    }
    assert set(got) == set(expected)
    for path, (fragment, line) in expected.items():
        assert fragment in got[path], got[path]
        assert got[path].endswith(f"(line {line})"), got[path]
    # Errors come in file order.
    assert [p for p, _ in caught.value.errors] == sorted(expected, key=lambda p: expected[p][1])


def test_the_key_is_never_echoed() -> None:
    errors = _errors({**BASE, "integrations": [{**BASE["integrations"][1], "key": "s3cr3t-value"}]})
    assert errors and not any("s3cr3t" in message for _, message in errors)


YAML_CASES = [
    ("duplicate-key", "teams:\n  - id: sre\n    name: A\n    name: B\n", "teams[0].name",
     "duplicate key 'name' (line 4; first at line 3)"),
    ("syntax", "teams: [\n", "", "YAML syntax error at line 2"),
    ("not-a-mapping", "- a\n- b\n", "", "must be a mapping of sections"),
    ("recursive-alias", "teams: &t [*t]\n", "", "refers to a value that contains it"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "path", "message"), [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES]
)
def test_yaml_problems(text: str, path: str, message: str) -> None:
    errors = check_config(text, source="t.yaml")
    assert any(p == path and message in m for p, m in errors), errors


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    errors = check_config("\n".join(lines), source="bomb.yaml")
    assert any("expands to more than" in m for _, m in errors)


def test_yaml_1_2_scalars() -> None:
    """`18:00` stays a time (YAML 1.1 reads 1080), `no` stays text, `010` is ten."""
    text = """\
schedules:
  - id: s
    name: no
    time_zone: UTC
    layers:
      - rotation: {type: daily, handoff: 18:00, start: 2026-03-02}
        users: [010]
"""
    with pytest.raises(ConfigError) as caught:
        load_config(text, source="t.yaml")
    assert caught.value.errors == [
        ("schedules[0].layers[0].users[0]", "must be text: write it in quotes (got 10) (line 7)"),
    ]


def test_anchors_and_merge_keys_work() -> None:
    text = """\
teams: [{id: sre, name: SRE}]
services:
  - &base {id: a, name: A, team: sre, max_group_age: 2h}
  - {<<: *base, id: b, name: B}
"""
    config = load_config(text, source="t.yaml")
    assert [(s.id, s.max_group_age) for s in config.services] == [
        ("a", timedelta(hours=2)),
        ("b", timedelta(hours=2)),
    ]


def test_empty_file_is_an_empty_configuration() -> None:
    assert load_config("", source="empty.yaml") == Config()


def test_check_file_reports_unreadable_file(tmp_path: Path) -> None:
    errors = check_file(tmp_path / "missing.yaml")
    assert len(errors) == 1 and "cannot read" in errors[0][1]


def test_silence_window() -> None:
    silence = Silence.model_validate(
        {"id": "s", "match": ["a=b"], "for": "2h", "comment": "c", "author": "a"}
    )
    applied = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert silence.window(applied) == (applied, applied + timedelta(hours=2))


def test_json_schema_is_available_for_the_api() -> None:
    schema = Config.model_json_schema()
    assert set(schema["properties"]) >= {"teams", "services", "integrations", "objectives"}
