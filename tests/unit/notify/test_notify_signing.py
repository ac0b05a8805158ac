"""Webhook signatures: a receiver accepts what we signed and nothing else."""

from __future__ import annotations

from datetime import timedelta

from notify_samples import START

from watchkeeper.notify.signing import sign_body, verify_signature

SECRET = "whsec-test-0123456789"
BODY = b'{"delivery_id":"dlv-1","title":"x"}'
NOW = int(START.timestamp())


def test_a_signature_we_made_verifies() -> None:
    header = sign_body(SECRET, BODY, NOW)
    assert header.startswith(f"t={NOW},v1=")
    assert verify_signature(SECRET, header, BODY, START)


def test_a_tampered_body_fails() -> None:
    header = sign_body(SECRET, BODY, NOW)
    assert not verify_signature(SECRET, header, BODY.replace(b"x", b"y"), START)


def test_another_secret_fails() -> None:
    header = sign_body(SECRET, BODY, NOW)
    assert not verify_signature("someone-else", header, BODY, START)


def test_an_old_signature_is_a_replay() -> None:
    header = sign_body(SECRET, BODY, NOW)
    assert verify_signature(SECRET, header, BODY, START + timedelta(seconds=300))
    assert not verify_signature(SECRET, header, BODY, START + timedelta(seconds=301))
    assert not verify_signature(SECRET, header, BODY, START + timedelta(seconds=60), tolerance=30)


def test_a_signature_from_the_far_future_fails() -> None:
    header = sign_body(SECRET, BODY, NOW + 3600)
    assert not verify_signature(SECRET, header, BODY, START)


def test_a_changed_timestamp_fails() -> None:
    header = sign_body(SECRET, BODY, NOW).replace(f"t={NOW}", f"t={NOW + 1}")
    assert not verify_signature(SECRET, header, BODY, START)


def test_any_of_several_signatures_may_match_during_secret_rotation() -> None:
    ours = sign_body(SECRET, BODY, NOW).split(",")[1]
    header = f"t={NOW},v1={'0' * 64},{ours}"
    assert verify_signature(SECRET, header, BODY, START)


def test_garbage_headers_fail_without_raising() -> None:
    for header in ("", "t=abc,v1=00", f"t={NOW}", "v1=00", f"t={NOW},v1=ünïcode"):
        assert not verify_signature(SECRET, header, BODY, START)
