"""The UTC datetime column type: aware in, aware UTC out, naive refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from platonicam.store.tables import UtcDateTime


def test_aware_times_are_stored_in_utc() -> None:
    column = UtcDateTime()
    paris = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    stored = column.process_bind_param(paris, sqlite.dialect())
    assert stored == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert stored is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_results_from_sqlite_come_back_as_utc() -> None:
    column = UtcDateTime()
    naive = datetime(2026, 6, 1, 12, 0)
    assert column.process_result_value(naive, sqlite.dialect()) == datetime(
        2026, 6, 1, 12, 0, tzinfo=UTC
    )
    assert column.process_result_value(None, postgresql.dialect()) is None


def test_naive_input_is_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime given to the database"):
        UtcDateTime().process_bind_param(datetime(2026, 6, 1), sqlite.dialect())
