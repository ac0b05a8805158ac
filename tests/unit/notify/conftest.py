"""Fixtures for notify tests: real loopback receivers, certificates and a fake clock."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from notify_receivers import Certificate, HttpReceiver, make_certificate
from notify_samples import START

from watchkeeper.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    yield server
    server.close()


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Certificate]:
    """Self-signed certificates for `localhost` and for a name no test server answers to."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")
    directory: Path = tmp_path_factory.mktemp("certs")
    return {name: make_certificate(directory, name) for name in ("localhost", "elsewhere.test")}
