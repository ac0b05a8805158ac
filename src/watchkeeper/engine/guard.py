"""Keeping one bad row from stopping a module: after a pass failed, the next passes run each
row in its own savepoint, and a row that fails again is put off for a minute (and logged), so
every other ticket keeps escalating. Savepoints cost round trips: only after a failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy import Connection

from watchkeeper.storage import notifications as notifications_q

PUT_OFF: Final = 60.0

log = logging.getLogger(__name__)


class RowGuard:
    def __init__(self, module: str) -> None:
        self.module = module
        self.careful = False
        self._failed_rows = 0

    @contextmanager
    def passing(self) -> Iterator[None]:
        """Around one pass: a pass that raises makes the following ones careful; a careful pass
        without a failing row ends the care."""
        self._failed_rows = 0
        try:
            yield
        except Exception:
            self.careful = True
            raise
        if self.careful and not self._failed_rows:
            self.careful = False

    @contextmanager
    def row(self, conn: Connection, timer_id: int, what: str, now: float) -> Iterator[None]:
        if not self.careful:
            yield
            return
        try:
            with conn.begin_nested():
                yield
        except Exception:
            self._failed_rows += 1
            log.exception("%s: %s failed; trying again in %.0fs", self.module, what, PUT_OFF)
            notifications_q.put_off_timer(conn, timer_id, now + PUT_OFF)
