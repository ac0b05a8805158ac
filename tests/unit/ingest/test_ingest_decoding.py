"""The decoding steps every adapter shares: timestamps, media types, forms, keys, links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchkeeper.domain.event import Link
from watchkeeper.errors import InvalidPayload, UnsupportedMediaType
from watchkeeper.ingest.adapters.base import MAX_DEDUP_KEY
from watchkeeper.ingest.adapters.decoding import (
    fit_key,
    form_object,
    links_from,
    parse_time,
    require_body_kind,
    safe_link,
)


@pytest.mark.parametrize(
    "text, instant",
    [
        ("2026-03-02T09:00:00Z", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2026-03-02T09:00:00.123456789Z", datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)),
        ("2026-03-02T10:00:00+01:00", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2015-07-17T08:42:58.315+0000", datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)),
        ("2026-03-02T09:00:00", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2026-03-02", datetime(2026, 3, 2, tzinfo=UTC)),
        (" 2026-03-02T09:00:00Z ", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        (None, None),
    ],
    ids=[
        "rfc3339",
        "go-nanoseconds",
        "offset",
        "pagerduty-doc-offset",
        "no-offset-is-utc",
        "date-only",
        "padded",
        "go-zero-time",
        "empty",
        "absent",
    ],
)
def test_parse_time(text: str | None, instant: datetime | None) -> None:
    assert parse_time(text, "t") == instant


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "1700000000",
        "2026-02-30T00:00:00Z",
        "2026-03-02T25:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2026-03-02T09:00:00+00:00+01:00",
    ],
    ids=[
        "word",
        "epoch",
        "no-such-day",
        "no-such-hour",
        "underflow",
        "overflow",
        "double-offset",
    ],
)
def test_bad_times_name_the_field(text: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse_time(text, "payload.timestamp")

    assert caught.value.field == "payload.timestamp"
    assert caught.value.allowed is not None


@pytest.mark.parametrize(
    "content_type, form, kind",
    [
        (None, False, "json"),
        ("", False, "json"),
        ("application/json", False, "json"),
        ("Application/JSON; charset=utf-8", False, "json"),
        ("application/vnd.example+json", False, "json"),
        ("application/x-www-form-urlencoded", True, "form"),
    ],
    ids=["none", "empty", "json", "json-with-charset", "plus-json", "form"],
)
def test_accepted_media_types(content_type: str | None, form: bool, kind: str) -> None:
    assert require_body_kind(content_type, form=form) == kind


@pytest.mark.parametrize(
    "content_type, form",
    [
        ("text/plain", False),
        ("text/json", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data", True),
        ("application/jsonx", False),
    ],
    ids=["text", "text-json", "form-not-allowed", "multipart", "lookalike"],
)
def test_refused_media_types(content_type: str, form: bool) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        require_body_kind(content_type, form=form)

    assert caught.value.status == 415
    assert caught.value.allowed is not None and "application/json" in caught.value.allowed


def test_form_object_folds_maps_and_lists() -> None:
    pairs = [("a", "1"), ("labels.x", "y"), ("links", "u1"), ("links", "u2"), ("labels.", "z")]

    folded = form_object(pairs, lists=frozenset({"links"}), maps=frozenset({"labels"}))

    assert folded == {"a": "1", "labels": {"x": "y"}, "links": ["u1", "u2"], "labels.": "z"}


@pytest.mark.parametrize(
    "key, fits",
    [("k" * MAX_DEDUP_KEY, True), ("k" * (MAX_DEDUP_KEY + 1), False), ("", True)],
    ids=["at-limit", "over-limit", "empty"],
)
def test_fit_key(key: str, fits: bool) -> None:
    fitted = fit_key(key)

    assert (fitted == key) is fits
    assert len(fitted) <= MAX_DEDUP_KEY
    assert fit_key(key) == fitted


@pytest.mark.parametrize(
    "href, link",
    [
        ("https://example.com/a", Link("https://example.com/a", "t")),
        ("HTTP://example.com", Link("HTTP://example.com", "t")),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("/relative", None),
        ("", None),
        (None, None),
        ("https://example.com/" + "a" * 9000, None),
    ],
    ids=["https", "upper-case-scheme", "javascript", "data", "relative", "empty", "none", "huge"],
)
def test_safe_link(href: str | None, link: Link | None) -> None:
    assert safe_link(href, "t") == link


def test_links_from_drops_repeats_and_caps() -> None:
    links = [safe_link(f"https://e.com/{i % 100}") for i in range(500)]

    kept = links_from(links)

    assert len(kept) == 64
    assert len({link.href for link in kept}) == 64
