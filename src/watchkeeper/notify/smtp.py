"""E-mail through the configured SMTP relay, with the TLS mode the operator chose."""

from __future__ import annotations

import re
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Final

from watchkeeper.clock import Clock
from watchkeeper.notify import render
from watchkeeper.notify.contact import Contact
from watchkeeper.notify.message import Message
from watchkeeper.notify.result import DeliveryResult, delivered, failed
from watchkeeper.notify.settings import SmtpSettings

DELIVERY_HEADER: Final = "X-Watchkeeper-Delivery"
# RFC 5322's hard line limit: the stdlib folds a subject that starts with "[" oddly at 78.
SMTP_POLICY: Final = SMTP.clone(max_line_length=998)
_NOT_ATEXT: Final = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]")


class _Refused(Exception):
    """A configuration or policy problem found before sending; retrying cannot help."""


class EmailNotifier:
    def __init__(self, settings: SmtpSettings | None, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._ssl = ssl.create_default_context(cafile=settings.ca_file if settings else None)

    def send(self, contact: Contact, message: Message) -> DeliveryResult:
        settings = self._settings
        if settings is None:
            return failed("no SMTP relay configured (smtp.host)", retryable=False)
        to = parseaddr(contact.address)[1]
        if "@" not in to or any(c in contact.address for c in "\r\n"):
            return failed(f"not an e-mail address: {contact.address!r}", retryable=False)
        mail = build_email(message, to=to, sender=settings.from_address, now=self._clock.now())
        where = f"{settings.host}:{settings.effective_port}"
        try:
            code, reply = self._deliver(settings, mail, to)
        except _Refused as exc:
            return failed(str(exc), retryable=False)
        except smtplib.SMTPRecipientsRefused as exc:
            code, why = next(iter(exc.recipients.values()))
            return _answered(f"{where} refused recipient {to}", code, why)
        except smtplib.SMTPResponseException as exc:
            return _answered(f"{where} refused the message", exc.smtp_code, exc.smtp_error)
        except ssl.SSLCertVerificationError as exc:
            return failed(f"TLS certificate of {where} not accepted: {exc}", retryable=False)
        except ssl.SSLError as exc:
            return failed(f"TLS with {where} failed: {exc}", retryable=False)
        except TimeoutError:
            return failed(f"{where} timed out after {settings.timeout}s", retryable=True)
        except (smtplib.SMTPException, OSError) as exc:
            return failed(f"could not deliver through {where}: {exc}", retryable=True)
        return delivered(code, reply)

    def _deliver(self, settings: SmtpSettings, mail: EmailMessage, to: str) -> tuple[int, str]:
        """MAIL, RCPT and DATA one by one, to keep the relay's final reply (its queue id)."""
        with self._connect(settings) as smtp:
            self._secure(smtp, settings)
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            sender = parseaddr(settings.from_address)[1]
            code, reply = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            code, reply = smtp.rcpt(to)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
            code, reply = smtp.data(mail.as_bytes(policy=SMTP_POLICY))
            return code, reply.decode("utf-8", "replace")

    def _connect(self, settings: SmtpSettings) -> smtplib.SMTP:
        host, port, timeout = settings.host, settings.effective_port, settings.timeout
        if settings.tls == "implicit":
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._ssl)
        return smtplib.SMTP(host, port, timeout=timeout)

    def _secure(self, smtp: smtplib.SMTP, settings: SmtpSettings) -> None:
        smtp.ehlo_or_helo_if_needed()
        if settings.tls in ("implicit", "none"):
            return
        where = f"{settings.host}:{settings.effective_port}"
        if smtp.has_extn("starttls"):
            smtp.starttls(context=self._ssl)
            smtp.ehlo()
        elif settings.tls == "required":
            raise _Refused(f"{where} does not offer STARTTLS, and smtp.tls is 'required'")
        elif settings.user:
            # Opportunistic TLS must not turn into sending the password in the clear.
            raise _Refused(
                f"{where} does not offer STARTTLS; not sending the password unencrypted "
                "(set smtp.tls to 'none' to allow it)"
            )


def build_email(message: Message, *, to: str, sender: str, now: datetime) -> EmailMessage:
    """Plain text with an HTML alternative; the Message-ID repeats the delivery id, so a mail
    client collapses a retry of the same notification."""
    mail = EmailMessage()
    mail["Subject"] = render.headline(message)
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(message.delivery_id, sender)
    mail[DELIVERY_HEADER] = render.one_line(message.delivery_id)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: keeps out-of-office replies away
    # Quoted-printable: a non-ASCII title must not depend on the relay's 8BITMIME.
    mail.set_content(render.full_text(message), cte="quoted-printable")
    mail.add_alternative(render.html(message), subtype="html", cte="quoted-printable")
    return mail


def message_id(delivery_id: str, sender: str) -> str:
    domain = _NOT_ATEXT.sub("-", parseaddr(sender)[1].rpartition("@")[2]) or "watchkeeper.invalid"
    return f"<{_NOT_ATEXT.sub('-', delivery_id)}@{domain}>"


def _answered(what: str, code: int, reply: bytes | str) -> DeliveryResult:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    # 4xx is the relay's "try again later"; 5xx is final.
    return failed(f"{what}: {code} {text}", retryable=400 <= code < 500, status_code=code)
