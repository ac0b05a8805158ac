"""SIGTERM stops a server cleanly: it exits 0 and lets the next server take the SQLite file."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.support.processes import ServerProcess


def test_sigterm_exits_cleanly_and_releases_the_database(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wk.db'}"
    first = ServerProcess(db_url=db, workdir=tmp_path / "first").start()
    assert first.proc is not None
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(timeout=30) == 0, first.log_tail()
    # the lock was released by the shutdown, not by the process dying
    second = ServerProcess(db_url=db, workdir=tmp_path / "second").start()
    try:
        assert second.proc is not None and second.proc.poll() is None
    finally:
        second.kill()
