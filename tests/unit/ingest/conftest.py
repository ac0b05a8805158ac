"""Fixtures for the adapter tests: the senders' documented payloads and a fixed instant."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def payload() -> Callable[[str], bytes]:
    """The bytes of payloads/<name>.json, exactly as a sender would post them."""

    def load(name: str) -> bytes:
        return (PAYLOADS / f"{name}.json").read_bytes()

    return load


@pytest.fixture
def payload_json() -> Callable[[str], Any]:
    """A documented payload as a Python value, to vary one field in a test."""

    def load(name: str) -> Any:
        return json.loads((PAYLOADS / f"{name}.json").read_text())

    return load
