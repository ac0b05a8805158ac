"""The configuration file's shape: one pydantic model per section, unknown keys refused."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Final, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from watchkeeper.config.fields import (
    WEEKDAYS,
    Amount,
    ClockTime,
    Day,
    Duration,
    Email,
    ExpressionField,
    Id,
    Instant,
    KeyTemplate,
    MatcherField,
    Network,
    PositiveDuration,
    RelativeChange,
    TargetField,
    Text,
    TimeZone,
    TitleTemplate,
    Weekday,
    WeekdayField,
    check_phone,
    check_url,
)
from watchkeeper.domain.matchers import matches_empty
from watchkeeper.domain.severity import Severity
from watchkeeper.domain.templates import Template, compile_template


class Model(BaseModel):
    """Every section refuses unknown keys, so a typo is an error and not a silent default."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)


# --- people ---------------------------------------------------------------------------------


class Team(Model):
    id: Id
    name: Text
    members: list[Id] = []


ContactType = Literal["email", "webhook", "slack", "teams", "sms", "voice"]
# QUALITY.md: paging methods interrupt a person; email does not, unless a method says so.
PAGING_BY_DEFAULT: Final = frozenset({"webhook", "slack", "teams", "sms", "voice"})
_DESTINATION: Final[dict[str, str]] = {
    "email": "address",
    "webhook": "url",
    "slack": "url",
    "teams": "url",
    "sms": "phone",
    "voice": "phone",
}


class Contact(Model):
    """How a person is reached: `address` (email), `url` (webhook, slack, teams) or `phone`
    (sms, voice)."""

    id: Id
    type: ContactType
    address: Email | None = None
    url: str | None = None
    phone: str | None = None
    secret: str | None = Field(default=None, repr=False)  # signs webhook bodies
    paging: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else check_phone(value)

    @model_validator(mode="after")
    def _one_destination(self) -> Self:
        wanted = _DESTINATION[self.type]
        given = [key for key in ("address", "url", "phone") if getattr(self, key) is not None]
        if wanted not in given:
            raise ValueError(f"a {self.type} contact needs `{wanted}`")
        if others := [key for key in given if key != wanted]:
            raise ValueError(f"a {self.type} contact takes `{wanted}`, not `{'`, `'.join(others)}`")
        return self

    @property
    def destination(self) -> str:
        value = getattr(self, _DESTINATION[self.type])
        assert isinstance(value, str)
        return value

    @property
    def is_paging(self) -> bool:
        return self.type in PAGING_BY_DEFAULT if self.paging is None else self.paging


class NotificationRule(Model):
    """Notify `contact` this long after the person is paged; only for `severity` when given."""

    contact: Id
    after: Duration = timedelta(0)
    severity: list[Severity] | None = Field(default=None, min_length=1)


class User(Model):
    id: Id
    name: Text
    email: Email
    time_zone: TimeZone
    team: Id | None = None
    role: Id | None = None
    contacts: list[Contact] = []
    notification_rules: list[NotificationRule] = []


# --- services, channels, integrations -------------------------------------------------------


class AutoResolve(Model):
    """How a ticket resolves when its alerts do: at once, after a quiet period, or by hand."""

    mode: Literal["immediately", "after_quiet", "never"] = "immediately"
    quiet: PositiveDuration | None = None

    @model_validator(mode="after")
    def _quiet_only_after_quiet(self) -> Self:
        if self.mode == "after_quiet" and self.quiet is None:
            raise ValueError("mode after_quiet needs `quiet` (e.g. quiet: 10m)")
        if self.mode != "after_quiet" and self.quiet is not None:
            raise ValueError(f"`quiet` applies only to mode after_quiet, not {self.mode}")
        return self


def _service_group_key() -> Template:
    return compile_template("{service}", max_length=255, overflow="hash")


class Service(Model):
    id: Id
    name: Text
    team: Id
    description: str = ""
    depends_on: list[Id] = []
    max_group_age: PositiveDuration = timedelta(hours=24)
    auto_resolve: AutoResolve = Field(default_factory=AutoResolve)
    alert_timeout: PositiveDuration | None = None  # for sources that never send a recovery
    escalation_policy: Id | None = None
    group_by: KeyTemplate = Field(default_factory=_service_group_key)


ChannelKind = Literal["automatic", "feedback", "manual"]


class Channel(Model):
    id: Id
    name: Text
    kind: ChannelKind


IntegrationType = Literal[
    "pagerduty",
    "alertmanager",
    "grafana",
    "opsgenie",
    "generic",
    "cloudevents",
    "heartbeat",
    "feedback",
]
# Keys travel in URLs and headers: URL-safe characters only, long enough not to be guessed.
_KEY = re.compile(r"[A-Za-z0-9._~-]{16,128}")
_PAGERDUTY_KEY = re.compile(r"[A-Za-z0-9]{32}")


class Route(Model):
    """Send matching events to `service`; the first route that matches wins."""

    match: list[MatcherField] = []
    expression: ExpressionField | None = None
    service: Id

    @model_validator(mode="after")
    def _has_condition(self) -> Self:
        if not self.match and self.expression is None:
            raise ValueError("a route needs `match` or `expression` (the integration's `service`"
                             " already takes everything else)")  # fmt: skip
        return self


class Integration(Model):
    id: Id
    name: Text
    type: IntegrationType
    key: str = Field(repr=False)
    channel: Id
    service: Id  # where events go when no route matches
    dedup: KeyTemplate | None = None
    group_by: KeyTemplate | None = None
    title: TitleTemplate | None = None
    routes: list[Route] = []
    interval: PositiveDuration | None = None  # heartbeat: an alert when no ping came this long
    alert_timeout: PositiveDuration | None = None

    @field_validator("key")
    @classmethod
    def _key_shape(cls, value: str, info: ValidationInfo) -> str:
        # Never echo the key: error messages end up in logs and CI output.
        if info.data.get("type") == "pagerduty":
            if not _PAGERDUTY_KEY.fullmatch(value):
                raise ValueError(
                    f"a PagerDuty integration key is exactly 32 letters and digits (this one has"
                    f" {len(value)} characters)"
                )
        elif not _KEY.fullmatch(value):
            raise ValueError(
                f"a key is 16-128 characters of letters, digits, '.', '_', '~', '-' (this one has"
                f" {len(value)} characters)"
            )
        return value

    @model_validator(mode="after")
    def _interval_for_heartbeats(self) -> Self:
        if self.type == "heartbeat" and self.interval is None:
            raise ValueError("a heartbeat integration needs `interval` (e.g. interval: 5m)")
        if self.type != "heartbeat" and self.interval is not None:
            raise ValueError("`interval` applies only to heartbeat integrations")
        return self


# --- rules: filters, silences, maintenance ---------------------------------------------------


class Filter(Model):
    """Drop (store nothing but the count) or mute matching events; `reason` is recorded."""

    id: Id
    integration: Id | None = None
    service: Id | None = None
    match: list[MatcherField] = []
    expression: ExpressionField | None = None
    action: Literal["drop", "mute"]
    reason: Text

    @model_validator(mode="after")
    def _has_condition(self) -> Self:
        if not self.match and self.expression is None:
            raise ValueError("a filter needs `match` or `expression`")
        return self


class Silence(Model):
    id: Id
    match: list[MatcherField] = Field(min_length=1)
    starts: Instant | None = None  # None: from when the configuration is applied
    ends: Instant | None = None
    for_: PositiveDuration | None = Field(default=None, alias="for")
    comment: Text
    author: Text

    @model_validator(mode="after")
    def _window(self) -> Self:
        if (self.ends is None) == (self.for_ is None):
            raise ValueError("a silence needs exactly one of `ends` and `for`")
        if self.starts is not None and self.ends is not None and self.ends <= self.starts:
            raise ValueError("`ends` must be after `starts`")
        # As in Alertmanager: a silence whose every matcher matches a missing label would
        # silence everything.
        if all(matches_empty(m) for m in self.match):
            raise ValueError(
                "at least one matcher must need a label to be present (every matcher here also"
                " matches alerts without the label, so this would silence everything)"
            )
        return self

    def window(self, applied_at: datetime) -> tuple[datetime, datetime]:
        """The silence's start and end, when the configuration is applied at `applied_at`."""
        starts = self.starts or applied_at
        if self.ends is not None:
            return starts, self.ends
        assert self.for_ is not None
        return starts, starts + self.for_


class TimeWindow(Model):
    """Days and a time of day; `to` at or before `from` runs past midnight into the next day,
    and equal times mean the whole 24 hours. `days` are the days the window starts on."""

    days: list[WeekdayField] = Field(min_length=1)
    from_: ClockTime = Field(alias="from")
    to: ClockTime


class WeeklyRecurrence(TimeWindow):
    time_zone: TimeZone


class Recurrence(Model):
    weekly: WeeklyRecurrence


class MaintenanceWindow(Model):
    """Mutes the services' alerts (those matching `match`, when given) during the window."""

    id: Id
    services: list[Id] = []
    match: list[MatcherField] = []
    starts: Instant | None = None
    ends: Instant | None = None
    recurring: Recurrence | None = None
    comment: str = ""

    @model_validator(mode="after")
    def _when(self) -> Self:
        fixed = self.starts is not None or self.ends is not None
        if fixed == (self.recurring is not None):
            raise ValueError(
                "a maintenance window needs either `starts` and `ends`, or `recurring`"
            )
        if fixed:
            if self.starts is None or self.ends is None:
                raise ValueError("a maintenance window needs both `starts` and `ends`")
            if self.ends <= self.starts:
                raise ValueError("`ends` must be after `starts`")
        if not self.services and not self.match:
            raise ValueError("a maintenance window needs `services` or `match`")
        return self


# --- on call: schedules and escalation -------------------------------------------------------


class Compact(Model):
    """Dumps leave out the optional keys that are not set, so a stored spec reads as the file
    would: `{remove: bob, from, to}`, not `{user: null, replaces: null, remove: bob, ...}`.
    oncall.parse_schedule takes a dumped schedule as it is."""

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        return {key: value for key, value in dumped.items() if value is not None}


class Rotation(Compact):
    """Hand-offs at `handoff` (schedule time), counted from `start`; custom ones every `length`."""

    type: Literal["hourly", "daily", "weekly", "custom"]
    handoff: ClockTime
    start: Day
    length: PositiveDuration | None = None

    @model_validator(mode="after")
    def _length_for_custom(self) -> Self:
        if self.type == "custom" and self.length is None:
            raise ValueError("a custom rotation needs `length` (e.g. length: 12h)")
        if self.type != "custom" and self.length is not None:
            raise ValueError(f"`length` applies only to custom rotations, not {self.type}")
        return self


def _every_day() -> list[Weekday]:
    return list(WEEKDAYS)


class Restriction(TimeWindow):
    """When a layer's user is on duty; without `days`, every day."""

    days: list[WeekdayField] = Field(default_factory=_every_day, min_length=1)


class Layer(Model):
    rotation: Rotation
    users: list[Id] = Field(min_length=1)
    restrictions: list[Restriction] = []


OverrideKind = Literal["add", "replace", "remove", "swap"]
OVERRIDE_SHAPES: Final = (
    "{user, from, to} (add), {user, replaces, from, to}, {remove: USER, from, to}"
    " or {swap: [USER, USER], from, to}"
)


class Override(Compact):
    """One change for an interval `from`-`to`, in one of four shapes: `{user}` is on call
    alongside everyone; `{user, replaces}` takes `replaces`'s place while they are on call;
    `{remove: bob}` takes bob off call; `{swap: [alice, bob]}` exchanges their duty."""

    user: Id | None = None
    replaces: Id | None = None
    remove: Id | None = None
    swap: list[Id] | None = Field(default=None, min_length=2, max_length=2)
    from_: Instant = Field(alias="from")
    to: Instant

    @field_validator("remove", mode="before")
    @classmethod
    def _remove_names_a_user(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("`remove` names the user taken off call, e.g. remove: bob")
        return value

    @field_validator("swap")
    @classmethod
    def _two_people(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and value[0] == value[1]:
            raise ValueError("a swap is between two different users")
        return value

    @model_validator(mode="after")
    def _shape(self) -> Self:
        given = [k for k in ("user", "replaces", "remove", "swap") if getattr(self, k) is not None]
        if self.swap is not None and given != ["swap"]:
            extra = "`, `".join(k for k in given if k != "swap")
            raise ValueError(f"a swap takes `swap: [A, B]`, `from` and `to`, not `{extra}`")
        if self.remove is not None and given != ["remove"]:
            extra = "`, `".join(k for k in given if k != "remove")
            raise ValueError(f"`remove: USER` takes only `from` and `to` besides, not `{extra}`")
        if self.replaces is not None and self.user is None:
            raise ValueError("`replaces` needs `user`: who takes the place")
        if not given:
            raise ValueError(f"an override is one of {OVERRIDE_SHAPES}")
        if self.to <= self.from_:
            raise ValueError("`to` must be after `from`")
        return self

    @property
    def kind(self) -> OverrideKind:
        if self.swap is not None:
            return "swap"
        if self.remove is not None:
            return "remove"
        return "replace" if self.replaces is not None else "add"


class Schedule(Compact):
    """Who is on duty when; later layers win where they have someone on duty, overrides
    apply in order. `name` (for people, e.g. calendar titles) defaults to the id."""

    id: Id
    name: Text | None = None
    time_zone: TimeZone
    layers: list[Layer] = Field(min_length=1)
    overrides: list[Override] = []


ROLES: Final = ("first-line", "second-line", "leader")


class Level(Model):
    """One step: page `targets`, then wait `delay` before the next level (or the next round)."""

    role: Id  # first-line, second-line, leader, or a named role
    targets: list[TargetField] = Field(min_length=1)
    delay: Duration
    round_robin: bool = False  # page one target per round, in turn, instead of all


class RuleAction(Model):
    policy: Id | None = None  # use this policy instead
    level: int | None = Field(default=None, ge=1)  # start at this level (1 is the first)
    wait_until_business_hours: Literal[True] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("policy", "level", "wait_until_business_hours") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "an action is exactly one of {policy: ID}, {level: N},"
                " {wait_until_business_hours: true}"
            )
        return self


class PolicyRule(Model):
    """Change how a ticket escalates at certain times (`when`, or `off_hours`) or severities."""

    when: TimeWindow | None = None
    off_hours: bool = False
    severity: list[Severity] | None = Field(default=None, min_length=1)
    action: RuleAction

    @model_validator(mode="after")
    def _one_time_condition(self) -> Self:
        if self.when is not None and self.off_hours:
            raise ValueError("give `when` or `off_hours: true`, not both")
        if self.when is None and not self.off_hours and self.severity is None:
            raise ValueError("a rule needs `when`, `off_hours: true` or `severity`")
        return self


class EscalationPolicy(Model):
    id: Id
    name: Text
    time_zone: TimeZone | None = None  # where `when` and business hours are read
    repeat: int = Field(default=0, ge=0, le=20)  # extra rounds after the first
    ack_timeout: PositiveDuration | None = None  # an acknowledgement lapses after this long
    levels: list[Level] = Field(min_length=1)
    rules: list[PolicyRule] = []

    @model_validator(mode="after")
    def _zone_for_rules(self) -> Self:
        timed = any(
            rule.when is not None or rule.off_hours or rule.action.wait_until_business_hours
            for rule in self.rules
        )
        if timed and self.time_zone is None:
            raise ValueError("rules that depend on the time of day need the policy's `time_zone`")
        return self


# --- outbound, SLOs, objectives --------------------------------------------------------------


class Outbound(Model):
    """Networks that webhooks may reach besides the public internet."""

    allow: list[Network] = []


class BurnAlert(Model):
    """Page when the budget burns `burn_rate` times too fast over both windows."""

    burn_rate: float = Field(gt=0)
    long_window: PositiveDuration
    short_window: PositiveDuration
    severity: Severity = "critical"

    @model_validator(mode="after")
    def _windows(self) -> Self:
        if self.short_window >= self.long_window:
            raise ValueError("`short_window` must be shorter than `long_window`")
        return self


class Slo(Model):
    id: Id
    service: Id
    name: Text
    objective: float = Field(gt=0, lt=100)  # percent of good events, e.g. 99.9
    window: PositiveDuration
    sli: dict[str, Any]
    burn_alerts: list[BurnAlert] = []

    @model_validator(mode="after")
    def _alert_windows(self) -> Self:
        for alert in self.burn_alerts:
            if alert.long_window > self.window:
                raise ValueError(
                    f"a burn alert's long_window is longer than the SLO's window ({self.window})"
                )
        return self


DURATION_METRICS: Final = (
    "ttd",
    "tta",
    "ttl",
    "ttm",
    "ttr",
    "hands_on_time",
    "failed_deployment_recovery_time",
)
RATE_METRICS: Final = (
    "automatic_discovery_rate",
    "miss_rate",
    "late_detection_rate",
    "false_alarm_rate",
    "alerts_to_tickets",
    "events_to_alerts",
    "channel_coverage",
    "change_failure_rate",
)
VALUE_METRICS: Final = (
    "mtbf",
    "tickets",
    "interruptions",
    "sleep_interruptions",
    "escalations_per_ticket",
)
Metric = Literal[
    "ttd",
    "tta",
    "ttl",
    "ttm",
    "ttr",
    "hands_on_time",
    "failed_deployment_recovery_time",
    "automatic_discovery_rate",
    "miss_rate",
    "late_detection_rate",
    "false_alarm_rate",
    "alerts_to_tickets",
    "events_to_alerts",
    "channel_coverage",
    "change_failure_rate",
    "mtbf",
    "tickets",
    "interruptions",
    "sleep_interruptions",
    "escalations_per_ticket",
]
Statistic = Literal["median", "p90", "rate", "value"]


def statistics_for(metric: str) -> tuple[Statistic, ...]:
    if metric in DURATION_METRICS:
        return ("median", "p90")
    if metric in RATE_METRICS:
        return ("rate",)
    return ("value",)


class Scope(Model):
    service: Id | None = None
    team: Id | None = None
    severity: Severity | None = None  # tickets of at least this severity


class Period(Model):
    from_: Day = Field(alias="from")
    to: Day

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.to <= self.from_:
            raise ValueError("`to` must be after `from`")
        return self


class KeyResultTarget(Model):
    """`absolute`: seconds (or a duration like 15m), a rate 0-1, or a count; `relative`:
    a change against the baseline, like "-30%"."""

    absolute: Amount | None = None
    relative: RelativeChange | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.absolute is None) == (self.relative is None):
            raise ValueError('a target is exactly one of {absolute: N} and {relative: "-30%"}')
        return self


class KeyResult(Model):
    id: Id
    metric: Metric
    statistic: Statistic
    scope: Scope = Field(default_factory=Scope)
    baseline: Period
    target: KeyResultTarget
    deadline: Day

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        allowed = statistics_for(self.metric)
        if self.statistic not in allowed:
            raise ValueError(
                f"statistic {self.statistic} does not fit metric {self.metric};"
                f" use {' or '.join(allowed)}"
            )
        absolute = self.target.absolute
        if self.metric in RATE_METRICS and absolute is not None and not 0 <= absolute <= 1:
            raise ValueError(f"a rate target is between 0 and 1 (got {absolute:g})")
        if absolute is not None and absolute < 0:
            raise ValueError("an absolute target is never negative")
        if self.deadline <= self.baseline.to:
            raise ValueError("`deadline` must be after the baseline period")
        return self


class Objective(Model):
    id: Id
    title: Text
    owner: Id | None = None  # a team or a user
    key_results: list[KeyResult] = Field(min_length=1)


# --- the whole file --------------------------------------------------------------------------


class Config(Model):
    """The whole file. Build it with `load_config`/`validate_config`: they also check the
    references between sections, which this model alone does not."""

    teams: list[Team] = []
    users: list[User] = []
    services: list[Service] = []
    channels: list[Channel] = []
    integrations: list[Integration] = []
    filters: list[Filter] = []
    silences: list[Silence] = []
    maintenance_windows: list[MaintenanceWindow] = []
    schedules: list[Schedule] = []
    escalation_policies: list[EscalationPolicy] = []
    outbound: Outbound = Field(default_factory=Outbound)
    slos: list[Slo] = []
    objectives: list[Objective] = []


SECTIONS: Final[dict[str, type[Model]]] = {
    "teams": Team,
    "users": User,
    "services": Service,
    "channels": Channel,
    "integrations": Integration,
    "filters": Filter,
    "silences": Silence,
    "maintenance_windows": MaintenanceWindow,
    "schedules": Schedule,
    "escalation_policies": EscalationPolicy,
    "slos": Slo,
    "objectives": Objective,
}
"""The list sections, in file order, with the model of one item (`outbound` is a mapping)."""
