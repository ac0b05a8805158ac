"""Settings from YAML, the registry of notifiers, and which contact methods page."""

from __future__ import annotations

import pytest

from watchkeeper.clock import FakeClock
from watchkeeper.errors import ConfigError
from watchkeeper.notify import Contact, Registry, is_paging, load_settings
from watchkeeper.notify.settings import NotifySettings


def test_settings_load_with_defaults() -> None:
    settings = load_settings(
        {
            "smtp": {"host": "mail.example.com", "tls": "implicit"},
            "outbound": {"allow": ["10.20.0.0/16"]},
        }
    )
    assert settings.smtp is not None
    assert settings.smtp.effective_port == 465
    assert settings.outbound.allow == ("10.20.0.0/16",)


def test_a_bad_network_names_its_yaml_path() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"outbound": {"allow": ["10.20.0.0/16", "not-a-net"]}})
    assert caught.value.errors == [("outbound.allow[1]", "'not-a-net' is not a CIDR network")]


def test_a_bad_tls_mode_names_its_yaml_path() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"smtp": {"tls": "maybe"}}, path="notify")
    path, text = caught.value.errors[0]
    assert path == "notify.smtp.tls"
    assert "starttls" in text


@pytest.mark.parametrize(
    ("kind", "override", "paging"),
    [
        ("sms", None, True),
        ("voice", None, True),
        ("slack", None, True),
        ("teams", None, True),
        ("webhook", None, True),
        ("email", None, False),
        ("email", True, True),
        ("slack", False, False),
    ],
    ids=lambda v: str(v),
)
def test_which_contacts_page(kind: str, override: bool | None, paging: bool) -> None:
    contact = Contact(id="c", type=kind, address="x", paging=override)  # type: ignore[arg-type]
    assert is_paging(contact) is paging


def test_the_registry_has_a_notifier_for_every_type_and_names_the_allowed_ones() -> None:
    registry = Registry(NotifySettings(), FakeClock())
    for kind in ("email", "webhook", "slack", "teams", "sms", "voice"):
        assert hasattr(registry.notifier_for(kind), "send")
    with pytest.raises(ValueError, match="allowed: email, webhook, slack, teams, sms, voice"):
        registry.notifier_for("pager")
