"""The live incident, replayed against the running server over real HTTP.

The orders database runs out of connections. Checkout, payments, the web shop, inventory,
order e-mails and the message queue alert through Alertmanager, Prometheus, a PagerDuty
client, Grafana, the Opsgenie API, a script and CloudEvents; a customer complains; noise is
dropped, silenced or held by a maintenance window. The first line is paged; nobody answers
for the database, so its second line is paged; an acknowledgement stops the escalation;
the fix lands and everything recovers. Minutes pass by moving the server's clock ahead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from watchkeeper.demo import wire
from watchkeeper.demo.stage import LiveResult, Stage
from watchkeeper.demo.wire import PromAlert, Wire

ANSWERED_AT_ONCE = (
    "checkout",
    "payments",
    "web-frontend",
    "inventory",
    "notifications-svc",
    "message-queue",
)
PAYMENT_DEDUP = "psp-captures-4242"
WAREHOUSE_ALIAS = "wh-reservations-4242"
WEB_TITLE = "Web shop 5xx responses"


def database_alerts(start: datetime) -> list[PromAlert]:
    return [
        PromAlert(
            {
                "alertname": name,
                "instance": instance,
                "job": "postgres-orders",
                "severity": severity,
                "env": "prod",
            },
            {"summary": summary, "runbook_url": f"https://runbooks.shop.internal/orders-db/{name}"},
            start,
        )
        for name, instance, severity, summary in (
            (
                "PostgresTooManyConnections",
                "pg-orders-1",
                "critical",
                "Orders database connections at 100% of max_connections",
            ),
            (
                "PostgresReplicationLag",
                "pg-orders-2",
                "high",
                "Orders replica 95 s behind the primary",
            ),
        )
    ]


def checkout_alerts(start: datetime) -> list[PromAlert]:
    return [
        PromAlert(
            {
                "alertname": name,
                "app": "checkout",
                "env": env,
                "severity": severity,
                "instance": instance,
            },
            {"summary": summary, "runbook_url": "https://runbooks.shop.internal/checkout"},
            start,
        )
        for name, severity, env, instance, summary in (
            (
                "CheckoutErrorRateHigh",
                "critical",
                "prod",
                "checkout-3:8080",
                "Checkout error rate at 18%",
            ),
            (
                "CheckoutLatencyHigh",
                "high",
                "prod",
                "checkout-3:8080",
                "Checkout p95 latency at 9.2 s",
            ),
            (
                "CheckoutErrorRateHigh",
                "warning",
                "staging",
                "checkout-staging-1:8080",
                "Checkout errors on staging",
            ),
        )
    ]


def web_alert(start: datetime) -> PromAlert:
    return PromAlert(
        {"alertname": "FrontendErrorRate", "service": "web-frontend", "severity": "critical"},
        {"summary": "Web shop 5xx responses at 7%"},
        start + timedelta(minutes=1),
    )


class LiveReplay(Stage):
    def run(self) -> LiveResult:
        """The incident, scene by scene; story minutes are counted from the start."""
        self._calm()
        self._storm()
        self._noise()
        self._customers()
        owner = self._answers()
        self._recovery(owner)
        self.catch_up()
        self.result.pages = self.receiver.pages("live")
        return self.result

    def _calm(self) -> None:
        self.scene("A deploy went out a few minutes ago; on-call life is quiet.")
        self.send(
            wire.pagerduty_change(
                self.keys["ci-deploys"],
                summary="Deploy checkout build 4242",
                source="ci.shop.internal",
                at=self.start - timedelta(minutes=3),
                details={"service": "checkout", "build": 4242, "by": "deploy-bot"},
            ),
            "the deploy pipeline reports checkout build 4242",
        )
        silence = self.api(
            "POST",
            "/api/v1/silences",
            "dana",
            json={
                "matchers": ["service=cart", 'alertname=~"Disk.*"'],
                "duration": "2h",
                "comment": "Moving cart nodes to new disks",
            },
        )
        self.say(
            f"[yellow]🔕 dana silences cart's disk alerts for 2 hours[/yellow] ({silence['id']})"
        )

    def _storm(self) -> None:
        t0, am = self.start, self.keys["prometheus-main"]
        self.scene("The orders database runs out of connections.")
        self.send(wire.alertmanager_group(am, database_alerts(t0)), "orders-db: 2 alerts")
        watchdog = PromAlert({"alertname": "Watchdog", "severity": "none"})
        self.send(wire.alertmanager_group(am, [watchdog]), "the always-firing Watchdog")
        self.minute(1)
        self.prometheus_firing = checkout_alerts(t0)
        self.send(self.prometheus(self.prometheus_firing), "checkout: 2 alerts, 1 more on staging")
        self.minute(1.5)
        self.send(self._payment_trigger(), "payments: captures failing")
        self.send(
            wire.grafana_group(self.keys["grafana-main"], [web_alert(t0)], title=WEB_TITLE),
            "web shop: 5xx responses",
        )
        self.minute(2.5)
        self.send(self._payment_trigger(), "payments: the provider sends it again")
        self.send(
            wire.opsgenie_create(
                self.keys["opsgenie-inventory"],
                message="Stock reservations timing out",
                alias=WAREHOUSE_ALIAS,
                priority="P2",
                description="Reservation writes wait on the orders database",
                entity="warehouse-1",
            ),
            "inventory: stock reservations time out",
        )
        self.send(self._mail_backlog("trigger"), "order e-mails: a cron script sees a backlog")
        self.send(self._queue_lag("firing"), "message queue: consumer lag")
        self.minute(3)

    def _noise(self) -> None:
        t0, am = self.start, self.keys["prometheus-main"]
        self.scene("Noise that must not page anyone.")
        disk = PromAlert(
            {
                "alertname": "DiskSpaceLow",
                "service": "cart",
                "instance": "cart-2:9100",
                "severity": "warning",
            },
            {"summary": "Disk 91% full on cart-2"},
            t0,
        )
        self.send(wire.alertmanager_group(am, [disk]), "cart: disk space (silenced)")
        stale = PromAlert(
            {
                "alertname": "CatalogIndexStale",
                "service": "catalog",
                "severity": "warning",
                "instance": "catalog-1:9100",
            },
            {"summary": "Catalog index older than 2 hours"},
            t0,
        )
        self.send(wire.alertmanager_group(am, [stale]), "catalog: stale index (maintenance)")
        database = wire.alertmanager_group(am, database_alerts(t0))
        self.send(database, "orders-db again: Alertmanager re-sends its group")
        self.send(database, "orders-db again: from its HA twin")
        self.minute(4)

    def _customers(self) -> None:
        self.scene("Customers notice.")
        self.send(
            wire.feedback(
                self.keys["support-desk"],
                description="Checkout spins forever after I press Pay, then says try again",
                reporter="support: Mia",
                service="checkout",
                severity="high",
                impact_start=self.start + timedelta(minutes=1),
                contact="customer via chat",
            ),
            "the support desk files a customer's report",
        )
        self.send(wire.heartbeat(self.keys["nightly-export"]), "the nightly export is alive")
        self.minute(4.5)

    def _answers(self) -> str:
        """The first line acknowledges everything but the database; its second line is paged
        after 10 minutes and acknowledges; nothing is sent after that."""
        self.scene("The first line answers, except for the database.")
        for service in ANSWERED_AT_ONCE:
            self.acknowledge(service)
        self.say("[red]… nobody answers for the orders database[/red]")
        self.minute(11)
        self.scene("The second line takes the database.")
        owner = self.acknowledge("orders-db") or "alice"
        before = self.receiver.count("live")
        self.minute(13)
        cause = {"service": "orders-db", "category": "capacity"}
        for service in ("orders-db", "checkout", "payments", "inventory"):
            if (ticket := self.ticket_of(service)) is not None:
                path = f"/api/v1/tickets/{ticket['id']}"
                self.api("PATCH", path, owner, json={"root_cause": cause})
        self.say(
            f"[green]✔ {owner} sets the root cause, orders-db / capacity[/green],"
            " on the database, checkout, payments and inventory tickets"
        )
        self.minute(26)
        self.result.quiet_after_ack = self.receiver.count("live") == before
        self.say(
            "[green]✔ no page after the acknowledgements (the database's leader was due at"
            " 25 minutes)[/green]"
            if self.result.quiet_after_ack
            else "[red]pages still went out after the acknowledgements[/red]"
        )
        return owner

    def _recovery(self, owner: str) -> None:
        t0, now, am = self.start, self.clock.now(), self.keys["prometheus-main"]
        self.scene("The connection pool is raised; everything recovers.")
        self.send(
            wire.alertmanager_group(am, wire.resolved(database_alerts(t0), now)),
            "orders-db: the group, resolved",
        )
        ended = [
            PromAlert(a.labels, a.annotations, a.starts_at, now) for a in self.prometheus_firing
        ]
        self.prometheus_firing = []
        self.send(wire.prometheus_alerts(am, ended), "checkout: endsAt is now")
        self.send(
            wire.pagerduty_event(self.keys["pagerduty-payments"], "resolve", PAYMENT_DEDUP),
            "payments: resolve",
        )
        self.send(
            wire.grafana_group(
                self.keys["grafana-main"], wire.resolved([web_alert(t0)], now), title=WEB_TITLE
            ),
            "web shop: resolved",
        )
        self.send(
            wire.opsgenie_action(
                self.keys["opsgenie-inventory"],
                alias=WAREHOUSE_ALIAS,
                action="close",
                user="wh-operator",
            ),
            "inventory: closed in Opsgenie",
        )
        self.send(self._mail_backlog("resolve"), "order e-mails: the script sends resolve")
        self.send(self._queue_lag("resolved"), "message queue: resolved")
        self.minute(29)
        self.resolve_by_hand("checkout", owner, "customers confirm checkout works")
        self.resolve_by_hand("notifications-svc", owner, "the backlog has drained")
        self.scene("Payments waits out its quiet period (10 minutes), then resolves.")
        self.minute(37)

    def _payment_trigger(self) -> Wire:
        return wire.pagerduty_event(
            self.keys["pagerduty-payments"],
            "trigger",
            PAYMENT_DEDUP,
            summary="Payment captures failing: orders database timeouts",
            source="payments-api",
            severity="error",
            at=self.start + timedelta(minutes=1),
            component="captures",
        )

    def _mail_backlog(self, action: str) -> Wire:
        return wire.generic(
            self.keys["scripts"],
            summary="Order confirmation e-mails delayed by 12 minutes",
            dedup="order-mail-queue-backlog",
            action=action,
            severity="high",
            service="notifications-svc",
            labels={"queue": "order-mails"},
            details={"backlog": 18_240},
        )

    def _queue_lag(self, kind: str) -> Wire:
        return wire.cloudevent(
            self.keys["cloud-events"],
            event_id=f"q-4242-{kind}",
            subject="queues/orders/consumer-lag",
            type_=f"com.cloud.monitoring.alert.{kind}",
            at=self.clock.now(),
            data={"summary": "Orders queue consumer lag above 50,000", "severity": "high"},
        )
