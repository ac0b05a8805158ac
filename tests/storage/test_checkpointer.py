"""The WAL checkpointer moves committed pages into the database file from its own thread."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from watchkeeper.storage.db import Checkpointer, open_engine


def _rows_in_main_file(db: Path, scratch: Path) -> int:
    """Rows a reader sees in the database file alone (the WAL left behind)."""
    copy = scratch / "copy.db"
    shutil.copy(db, copy)
    with sqlite3.connect(copy) as conn:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])


def test_checkpointer_moves_the_wal_into_the_database_file(tmp_path: Path) -> None:
    db = tmp_path / "wk.db"
    engine = open_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        # a first checkpoint makes the table itself part of the file
        Checkpointer(engine).checkpoint()
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x" * 200} for _ in range(500)]
            )
        # the writer's own autocheckpoint is only a safety net: the rows are in the WAL only
        assert _rows_in_main_file(db, tmp_path) == 0

        checkpointer = Checkpointer(engine, interval=0.02)
        checkpointer.start()
        try:
            deadline = time.monotonic() + 10
            while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            checkpointer.stop()
        assert checkpointer.checkpoints >= 2
        assert _rows_in_main_file(db, tmp_path) == 500
    finally:
        engine.dispose()
