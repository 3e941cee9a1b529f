"""Configuration: validation with messages that name the key, environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_worker, worker_env
from worker.config import ConfigError, load_settings, resolve_secret


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.seeds_dir == Path("seeds")
    assert settings.feeds_dir == Path("feeds")
    assert settings.db_url == "sqlite:///data/worker.db"
    assert settings.server.port == 8080


def test_the_committed_config_is_valid() -> None:
    root = Path(__file__).resolve().parent.parent
    settings = load_settings(root / "config" / "worker.toml", environ={})
    assert settings.source_path.endswith("worker.toml")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[server]\nport = 'eighty'\n", "server.port"),
        ("[server]\nport = 70000\n", "server.port"),
        ("[schedule]\nseeds_every = -1\n", "schedule.seeds_every"),
        ("[fetch]\ntimeot = 3\n", "fetch.timeot: unknown key"),
        ("[[feeds]]\nname = 'no url'\n", "feeds.0.url"),
        ("[[feeds]]\nurl = 'ftp://x/feed'\n", "feeds.0.url"),
        ("log_format = 'xml'\n", "log_format"),
        ("[server\nport = 1\n", "not valid TOML"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, toml: str, expected: str) -> None:
    path = write(tmp_path / "worker.toml", toml)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_environment_overrides_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "worker.toml", "[server]\nport = 8081\n")
    settings = load_settings(
        path,
        environ={
            "WORKER_SERVER__PORT": "9091",
            "WORKER_DATABASE_URL": "postgresql+psycopg://db/worker",
            "WORKER_PUBLISH__WINDOW": "7",
        },
    )
    assert settings.server.port == 9091
    assert settings.database_url == "postgresql+psycopg://db/worker"
    assert settings.publish.window == 7


def test_a_bad_environment_value_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="environment WORKER_SERVER__PORT: server.port"):
        load_settings(None, environ={"WORKER_SERVER__PORT": "x"})


def test_an_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_secrets_come_from_env_or_file(tmp_path: Path) -> None:
    secret_file = write(tmp_path / "secret", "whsec_abc\n")
    assert resolve_secret(f"file:{secret_file}", key="webhooks.0.secret") == "whsec_abc"
    assert resolve_secret("env:HOOK", key="k", environ={"HOOK": "whsec_env"}) == "whsec_env"
    with pytest.raises(ConfigError, match="literal secret"):
        resolve_secret("whsec_plain", key="webhooks.0.secret")
    with pytest.raises(ConfigError, match="HOOK_SECRET_UNSET is not set"):
        resolve_secret("env:HOOK_SECRET_UNSET", key="webhooks.0.secret")


def test_cli_exits_2_naming_the_key(tmp_path: Path) -> None:
    write(tmp_path / "config" / "worker.toml", "[server]\nport = 'eighty'\n")
    for command in (["check-config"], ["once"], ["run"]):
        result = run_worker(*command, cwd=tmp_path)
        assert result.returncode == 2, (command, result.stderr)
        message = result.stderr.strip().splitlines()[-1]
        assert "config/worker.toml" in message and "server.port" in message


def test_cli_exits_2_for_a_bad_environment_value(tmp_path: Path) -> None:
    result = run_worker("check-config", cwd=tmp_path, env=worker_env(WORKER_FETCH__TIMEOUT="soon"))
    assert result.returncode == 2
    assert "WORKER_FETCH__TIMEOUT" in result.stderr and "fetch.timeout" in result.stderr


def test_check_config_accepts_the_defaults(tmp_path: Path) -> None:
    result = run_worker("check-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok:")


def test_unknown_command_is_usage_error(tmp_path: Path) -> None:
    assert run_worker("frobnicate", cwd=tmp_path).returncode == 2


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "http://localhost:8080"),
        ({"WORKER_SERVER__PORT": "9090"}, "http://localhost:9090"),
        ({"WORKER_SERVER__HOST": "127.0.0.1", "WORKER_SERVER__PORT": "81"}, "http://127.0.0.1:81"),
        ({"WORKER_SERVER__HOST": "::1"}, "http://[::1]:8080"),
        ({"WORKER_SERVER__PORT": "9090", "WORKER_PUBLISH__BASE_URL": "https://ev.example"},
         "https://ev.example"),
    ],
)
def test_base_url_follows_the_server_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ=environ).publish.base_url == expected


def test_the_committed_config_lets_links_follow_the_port() -> None:
    root = Path(__file__).resolve().parent.parent
    path = root / "config" / "worker.toml"
    settings = load_settings(path, environ={"WORKER_SERVER__PORT": "9090"})
    assert settings.publish.base_url == "http://localhost:9090"


def test_every_link_follows_the_port(project_dir: Path) -> None:
    done = run_worker("once", cwd=project_dir, env=worker_env(WORKER_SERVER__PORT="9090"))
    assert done.returncode == 0, done.stderr
    feeds = project_dir / "feeds"
    for name in ("atom.xml", "rss.xml", "feed.json", "events.ics", "index.html"):
        text = (feeds / name).read_text(encoding="utf-8")
        assert "localhost:8080" not in text, name
    assert 'href="http://localhost:9090/feeds/atom.xml"' in (feeds / "atom.xml").read_text()
    assert "@localhost" in (feeds / "events.ics").read_text()
