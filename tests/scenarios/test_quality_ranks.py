"""Medians and p90s from SQL agree exactly with the in-memory definition, on both databases.

A small sample size forces the sample-guided path (count below a neighbourhood, fetch only
the values inside it); the answers must equal `stats.summarize_durations` over every value,
ties and missing timestamps included, and a neighbourhood that misses falls back to a full
ordered scan.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.support.processes import scratch_database

from watchkeeper.quality.queries import duration_source
from watchkeeper.quality.ranks import _assign, _Window, summarize
from watchkeeper.quality.scope import Scope
from watchkeeper.quality.stats import summarize_durations
from watchkeeper.storage import migrate, tables
from watchkeeper.storage.db import open_engine

START = 1_772_000_000.0
N = 3000


def _tickets(rng: random.Random, *, ties: bool) -> list[dict[str, Any]]:
    rows = []
    for i in range(N):
        detected = START + i * 60.0

        def later(median: float, share: float = 1.0, base: float = detected) -> float | None:
            if rng.random() > share:
                return None
            d = rng.lognormvariate(0, 1.3) * median
            return base + (round(d / 60.0) * 60.0 if ties else d)

        acked = later(300, 0.9)
        resolved = later(3600, 0.8)
        rows.append(
            {
                "id": i + 1, "service_id": "svc", "group_key": f"g{i}", "grouping": False,
                "status": "resolved" if resolved else "triggered", "title": "t",
                "severity": "high", "impact_start": detected - rng.expovariate(1 / 200),
                "detected_at": detected, "acknowledged_at": acked,
                "localized_at": later(900, 0.3, acked) if acked else None,
                "mitigated_at": resolved, "resolved_at": resolved, "channel_kind": "automatic",
                "responders": [], "last_alert_at": detected, "updated_at": detected,
            }
        )  # fmt: skip
    return rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    template = request.getfixturevalue("pg_template") if request.param == "postgresql" else None
    directory: Path = tmp_path_factory.mktemp("ranks")
    with scratch_database(request.param, directory, template) as url:
        db = open_engine(url)
        migrate.upgrade(db)
        yield db
        db.dispose()


@pytest.mark.parametrize("ties", [False, True], ids=["continuous", "whole-minutes"])
def test_sql_summaries_equal_the_in_memory_ones(engine: Engine, ties: bool) -> None:
    rows = _tickets(random.Random(7 + ties), ties=ties)
    with engine.begin() as conn:
        conn.execute(tables.tickets.delete())
        conn.execute(tables.tickets.insert(), rows)
    scope = Scope(start=START, end=START + N * 60.0, now=START + N * 60.0)
    source = duration_source(scope)
    with engine.connect() as conn:
        guided = summarize(conn, source, sample_size=300, seed=3)
        whole = summarize(conn, source)  # 3,000 rows ≤ 10,000: every value is the sample
    spans = {
        "ttd": ("impact_start", "detected_at"),
        "tta": ("detected_at", "acknowledged_at"),
        "ttl": ("acknowledged_at", "localized_at"),
        "ttr": ("detected_at", "resolved_at"),
        "hands_on_time": ("acknowledged_at", "resolved_at"),
    }
    for name, (start, end) in spans.items():
        values = [r[end] - r[start] for r in rows if r[end] is not None and r[start] is not None]
        expected = summarize_durations(values)
        for got in (guided[name], whole[name]):
            assert got.summary.n == expected.n, name
            assert got.summary.median == pytest.approx(expected.median, abs=1e-6), name
            assert got.summary.p90 == pytest.approx(expected.p90, abs=1e-6), name
            assert got.summary.median_ci95 == pytest.approx(expected.median_ci95), name
            assert got.summary.p90_ci95 == pytest.approx(expected.p90_ci95), name
            assert got.summary.mean == pytest.approx(expected.mean), name
        assert whole[name].method == "all values"
        assert len(whole[name].sample) == expected.n
    assert guided["ttd"].method == "sample-guided ranks"
    assert 0 < len(guided["ttd"].sample) < 600  # about 300 of 3,000 tickets, every one has a TTD


def test_a_neighbourhood_that_misses_a_rank_is_detected() -> None:
    # the median of 5 values is the 3rd; two values lie below the window
    window = _Window(quantile=0.5, low=5.0, high=7.0, below=2)
    assert _assign(5, [window], [5.0, 6.0]) == {3: 5.0}
    window.below = 3
    assert _assign(5, [window], [5.0, 6.0]) is None  # the 3rd lies below the window
    window.below = 0
    assert _assign(5, [window], [5.0, 6.0]) is None  # … or above what was fetched
