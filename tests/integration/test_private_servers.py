"""The fault tests' own servers start, stop and restart as those tests need them to."""

from __future__ import annotations

from pathlib import Path

import psycopg2  # type: ignore[import-untyped]
import pytest
import redis

from tests.integration.private_servers import private_postgres, private_redis

pytestmark = pytest.mark.integration


def test_a_private_redis_keeps_its_data_across_a_stop_and_start(tmp_path: Path) -> None:
    with private_redis(tmp_path) as server:
        client = redis.Redis.from_url(server.url(), socket_connect_timeout=1)
        client.set("queued", "1")
        server.stop()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        server.start()
        assert client.get("queued") == b"1"


def test_a_restart_of_the_private_postgres_cuts_its_sessions() -> None:
    with private_postgres() as server:
        before = psycopg2.connect(server.url())
        server.restart()
        with pytest.raises(psycopg2.OperationalError), before.cursor() as cursor:
            cursor.execute("SELECT 1")
        with psycopg2.connect(server.url()) as after, after.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
