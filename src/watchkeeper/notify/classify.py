"""Which contact methods page (interrupt a person) and which only inform."""

from __future__ import annotations

from typing import Final

from watchkeeper.notify.contact import Contact, ContactType

# Email is read later; everything else reaches a person (or their chat or pager) at once.
PAGING_BY_DEFAULT: Final[frozenset[ContactType]] = frozenset(
    {"sms", "voice", "slack", "teams", "webhook"}
)


def is_paging(contact: Contact) -> bool:
    """The contact's own choice when it made one, else its type's default."""
    if contact.paging is not None:
        return contact.paging
    return contact.type in PAGING_BY_DEFAULT
