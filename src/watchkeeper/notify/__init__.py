"""Delivery of notifications: one module per contact-method type behind the Notifier contract."""

from watchkeeper.notify.classify import is_paging
from watchkeeper.notify.contact import CONTACT_TYPES, Contact, ContactType
from watchkeeper.notify.contract import Notifier
from watchkeeper.notify.links import ActionGrant, InvalidActionToken, sign_action, verify_action
from watchkeeper.notify.message import AlertNote, Message, TicketNotice
from watchkeeper.notify.registry import Registry
from watchkeeper.notify.result import DeliveryResult
from watchkeeper.notify.retry import next_delay
from watchkeeper.notify.settings import NotifySettings, load_settings
from watchkeeper.notify.signing import verify_signature

__all__ = [
    "CONTACT_TYPES",
    "ActionGrant",
    "AlertNote",
    "Contact",
    "ContactType",
    "DeliveryResult",
    "InvalidActionToken",
    "Message",
    "Notifier",
    "NotifySettings",
    "Registry",
    "TicketNotice",
    "is_paging",
    "load_settings",
    "next_delay",
    "sign_action",
    "verify_action",
    "verify_signature",
]
