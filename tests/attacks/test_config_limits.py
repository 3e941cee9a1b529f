"""Attacks on the configuration: values that pass validation and only break later.

``seeds_every = inf`` or ``1e300`` passed ``check-config`` and killed ``worker run``
with an OverflowError; ``database_url = "garbage"`` or ``mysql://…`` passed and then
raised tracebacks; a bad list in the environment was blamed on the file; the test
suite's own variable (``WORKER_TEST_POSTGRES_URL``) made every command exit 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_worker, worker_env
from worker.config import ConfigError, load_settings


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    [
        ("WORKER_SCHEDULE__SEEDS_EVERY", "inf", "schedule.seeds_every"),
        ("WORKER_SCHEDULE__SEEDS_EVERY", "1e300", "schedule.seeds_every"),
        ("WORKER_SCHEDULE__FEEDS_EVERY", "nan", "schedule.feeds_every"),
        ("WORKER_FETCH__LEASE", "1e18", "fetch.lease"),
        ("WORKER_DELIVERY__RETRY_SCHEDULE", "5,1e300", "delivery.retry_schedule"),
        ("WORKER_DELIVERY__CONCURRENCY", "1000000000", "delivery.concurrency"),
        ("WORKER_DATABASE_URL", "garbage", "database_url"),
        ("WORKER_DATABASE_URL", "mysql://root@127.0.0.1/test", "database_url"),
        ("WORKER_DATABASE_URL", "postgresql+asyncpg://db/worker", "database_url"),
    ],
)
def test_check_config_refuses_what_would_fail_later(
    tmp_path: Path, variable: str, value: str, key: str
) -> None:
    result = run_worker("check-config", cwd=tmp_path, env=worker_env(**{variable: value}))
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"environment {variable}: {key}" in lines[0]


def test_infinite_and_huge_intervals_in_the_file_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "worker.toml"
    for toml in ("[schedule]\nseeds_every = inf\n", "[schedule]\nseeds_every = 1e300\n"):
        path.write_text(toml, encoding="utf-8")
        with pytest.raises(ConfigError, match=f"{path}: schedule.seeds_every"):
            load_settings(path, environ={})


def test_a_bad_list_from_the_environment_is_blamed_on_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "worker.toml"
    path.write_text("[delivery]\nretry_schedule = [5, 10]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={"WORKER_DELIVERY__RETRY_SCHEDULE": "5,soon"})
    assert str(info.value).startswith("environment WORKER_DELIVERY__RETRY_SCHEDULE: ")


def test_postgres_urls_without_a_driver_use_the_one_installed() -> None:
    settings = load_settings(None, environ={"WORKER_DATABASE_URL": "postgres://u@db/worker"})
    assert settings.db_url == "postgresql+psycopg://u@db/worker"


def test_the_test_suites_variable_does_not_affect_the_worker(tmp_path: Path) -> None:
    env = worker_env(WORKER_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1/x")
    result = run_worker("check-config", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "WORKER_TEST_POSTGRES_URL" in result.stdout  # reported as ignored, not an error
    # A typo inside a table the worker knows is still an error, naming the variable.
    result = run_worker("check-config", cwd=tmp_path, env=worker_env(WORKER_SERVER__PROT="1"))
    assert result.returncode == 2
    assert "WORKER_SERVER__PROT: server.prot: unknown key" in result.stderr
