"""The WAL checkpointer moves committed pages into the database file from its own thread."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from watchkeeper.storage.db import Checkpointer, open_engine


def _rows_in_main_file(db: Path, scratch: Path) -> int:
    """Rows a reader sees in the database file alone (the WAL left behind)."""
    copy = scratch / "copy.db"
    shutil.copy(db, copy)
    with sqlite3.connect(copy) as conn:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])


def _insert(engine: Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x" * 200} for _ in range(rows)])


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'wk.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    # a first checkpoint makes the table itself part of the file
    Checkpointer(engine).checkpoint()
    yield engine
    engine.dispose()


def test_checkpointer_moves_a_large_wal_into_the_database_file(
    engine: Engine, tmp_path: Path
) -> None:
    db = tmp_path / "wk.db"
    _insert(engine, 500)  # ~30 pages
    # the writer's own autocheckpoint is only a safety net: the rows are in the WAL only
    assert _rows_in_main_file(db, tmp_path) == 0

    checkpointer = Checkpointer(engine, interval=0.02, min_frames=10)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        checkpointer.stop()
    assert checkpointer.checkpoints >= 1
    assert _rows_in_main_file(db, tmp_path) == 500


def test_a_small_wal_is_synced_and_left_for_later(engine: Engine, tmp_path: Path) -> None:
    """Copying a small WAL would make the next commit start it over (and sync its header, on
    the path of an alert): it is synced to disk instead, and copied once it is old enough."""
    checkpointer = Checkpointer(engine, min_frames=1_000, max_age=60.0)
    _insert(engine, 5)
    frames = checkpointer.wal_frames()
    assert frames is not None and frames[0] > frames[1]  # frames wait in the WAL

    assert checkpointer.look(now=100.0) == "sync"
    assert checkpointer.look(now=101.0) == ""  # nothing new since
    _insert(engine, 5)
    assert checkpointer.look(now=102.0) == "sync"
    assert _rows_in_main_file(tmp_path / "wk.db", tmp_path) == 0

    assert checkpointer.look(now=160.0) == "checkpoint"  # frames waited 60 s
    assert _rows_in_main_file(tmp_path / "wk.db", tmp_path) == 10
    total, backfilled = checkpointer.wal_frames() or (0, -1)
    assert total == backfilled
    assert checkpointer.look(now=161.0) == ""


def test_without_a_wal_index_it_checkpoints_every_look(engine: Engine, tmp_path: Path) -> None:
    checkpointer = Checkpointer(engine)
    checkpointer._shm = tmp_path / "missing-shm"
    _insert(engine, 5)
    assert checkpointer.look(now=1.0) == "checkpoint"
    assert _rows_in_main_file(tmp_path / "wk.db", tmp_path) == 5
