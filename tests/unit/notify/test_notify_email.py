"""E-mail through a real SMTP server (aiosmtpd) on 127.0.0.1, in every TLS mode."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from notify_receivers import Certificate, smtp_server
from notify_samples import bundle, single

from watchkeeper.clock import FakeClock
from watchkeeper.notify import Contact, DeliveryResult, Message, Registry
from watchkeeper.notify.settings import NotifySettings, SmtpSettings, TlsMode

TO = Contact(id="e", type="email", address="Dana Oncall <dana@example.com>")


def send(
    port: int,
    clock: FakeClock,
    tls: TlsMode,
    *,
    message: Message | None = None,
    cert: Certificate | None = None,
    user: str | None = None,
    password: str | None = None,
) -> DeliveryResult:
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=port,
        tls=tls,
        user=user,
        password=password,
        from_address="Watchkeeper <pager@oncall.example.com>",
        ca_file=str(cert.cert) if cert else None,
        timeout=5,
    )
    notifier = Registry(NotifySettings(smtp=smtp), clock).notifier_for("email")
    return notifier.send(TO, message or single("dlv-mail-1"))


def parsed(data: bytes) -> EmailMessage:
    mail = message_from_bytes(data, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    return mail


def test_a_plain_relay_gets_text_html_and_the_delivery_id(clock: FakeClock) -> None:
    with smtp_server() as (server, port):
        result = send(port, clock, "none")
    assert result.ok and result.status_code == 250
    assert result.response_excerpt == "2.0.0 Ok: queued as TESTQUEUE1"
    [mail] = server.mails
    assert (mail.mail_from, mail.rcpt_tos, mail.encrypted) == (
        "pager@oncall.example.com",
        ["dana@example.com"],
        False,
    )
    email = parsed(mail.data)
    assert (
        email["Subject"]
        == "[CRITICAL] checkout: Checkout error rate above 5% (1) (#T-1, triggered)"
    )
    assert email["From"] == "Watchkeeper <pager@oncall.example.com>"
    assert email["Message-ID"] == "<dlv-mail-1@oncall.example.com>"
    assert email["X-Watchkeeper-Delivery"] == "dlv-mail-1"
    assert email["Date"] == "Mon, 02 Mar 2026 09:00:00 +0000"
    text = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    for needed in ("eu-west-1 pods failing", "ack-token-1", "resolve-token-1", "checkout-errors"):
        assert needed in plain
    assert (
        '<a href="https://oncall.example.com/a/ack-token-1">Acknowledge</a>' in html.get_content()
    )


def test_a_bundle_mail_lists_every_ticket(clock: FakeClock) -> None:
    with smtp_server() as (server, port):
        assert send(port, clock, "none", message=bundle()).ok
    email = parsed(server.mails[0].data)
    assert email["Subject"].startswith("4 tickets (2 critical, 1 high, 1 warning)")
    body = email.get_body(("plain",))
    assert body is not None
    assert all(f"Ticket:   T-{n}" in body.get_content() for n in range(1, 5))


def test_starttls_mode_sends_in_the_clear_when_the_server_offers_no_tls(clock: FakeClock) -> None:
    with smtp_server() as (server, port):
        assert send(port, clock, "starttls").ok
    assert server.mails[0].encrypted is False


def test_starttls_mode_encrypts_when_offered(
    certs: dict[str, Certificate], clock: FakeClock
) -> None:
    cert = certs["localhost"]
    with smtp_server(starttls=cert.server_context(), auth=True) as (server, port):
        result = send(port, clock, "starttls", cert=cert, user="oncall", password="s3cret")
    assert result.ok, result.error
    assert server.mails[0].encrypted is True
    assert server.logins == [("oncall", "s3cret")]


def test_required_mode_fails_clearly_without_starttls(clock: FakeClock) -> None:
    with smtp_server() as (server, port):
        result = send(port, clock, "required")
    assert (result.ok, result.retryable) == (False, False)
    assert result.error == f"127.0.0.1:{port} does not offer STARTTLS, and smtp.tls is 'required'"
    assert server.mails == []


def test_required_mode_delivers_over_starttls(
    certs: dict[str, Certificate], clock: FakeClock
) -> None:
    cert = certs["localhost"]
    with smtp_server(starttls=cert.server_context()) as (server, port):
        assert send(port, clock, "required", cert=cert).ok
    assert server.mails[0].encrypted is True


def test_implicit_tls(certs: dict[str, Certificate], clock: FakeClock) -> None:
    cert = certs["localhost"]
    with smtp_server(implicit=cert.server_context()) as (server, port):
        assert send(port, clock, "implicit", cert=cert).ok
    assert server.mails[0].encrypted is True


def test_an_untrusted_certificate_is_final(certs: dict[str, Certificate], clock: FakeClock) -> None:
    with smtp_server(starttls=certs["localhost"].server_context()) as (server, port):
        result = send(port, clock, "required", cert=certs["elsewhere.test"])
    assert (result.ok, result.retryable) == (False, False)
    assert (result.error or "").startswith(f"TLS certificate of 127.0.0.1:{port} not accepted")
    assert server.mails == []


def test_the_password_never_travels_in_the_clear_in_starttls_mode(clock: FakeClock) -> None:
    with smtp_server(auth=True, auth_without_tls=True) as (server, port):
        result = send(port, clock, "starttls", user="oncall", password="s3cret")
    assert (result.ok, result.retryable) == (False, False)
    assert "not sending the password unencrypted" in (result.error or "")
    assert server.logins == [] and server.mails == []


def test_a_wrong_password_is_final(certs: dict[str, Certificate], clock: FakeClock) -> None:
    cert = certs["localhost"]
    with smtp_server(starttls=cert.server_context(), auth=True) as (server, port):
        result = send(port, clock, "starttls", cert=cert, user="oncall", password="guess")
    assert (result.ok, result.retryable, result.status_code) == (False, False, 535)
    assert server.mails == []


def test_no_server_listening_is_retryable(clock: FakeClock) -> None:
    with smtp_server() as (_, port):
        pass
    result = send(port, clock, "none")
    assert (result.ok, result.retryable) == (False, True)
    assert (result.error or "").startswith(f"could not deliver through 127.0.0.1:{port}")


def test_no_relay_configured_is_a_clear_failure(clock: FakeClock) -> None:
    result = Registry(NotifySettings(), clock).notifier_for("email").send(TO, single())
    assert (result.ok, result.retryable) == (False, False)
    assert result.error == "no SMTP relay configured (smtp.host)"
