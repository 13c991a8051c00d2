"""Settings.from_env: every variable's default, a good value, and bad values that stop the
program with a ConfigError naming the variable (DESIGN.md, Configuration)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services.errors import ConfigError
from services.settings import (
    DEFAULT_SOURCE_URLS,
    DEFAULT_USER_AGENT,
    Settings,
    default_data_dir,
    unknown_variables,
    variable_names,
)

WIX = "https://www.belarus-nau.org"


@dataclass(frozen=True)
class Variable:
    name: str
    default: Any
    good: str
    parsed: Any
    bad: tuple[str, ...]

    @property
    def attribute(self) -> str:
        # STYLE.md: NAMFEEDS_CRAWL_INTERVAL becomes settings.crawl_interval.
        return self.name.removeprefix("NAMFEEDS_").lower()


VARIABLES = [
    Variable(
        "NAMFEEDS_REDIS_URL",
        None,
        "redis://:secret@127.0.0.1:6379/15",
        "redis://:secret@127.0.0.1:6379/15",
        (
            "http://127.0.0.1:6379",
            "redis://127.0.0.1:6379/abc",
            "redis://127.0.0.1:6379/99",
            "redis://127.0.0.1:6379/16",
            "redis://127.0.0.1:6379/-1",
            "redis://127.0.0.1:6379/0?db=20",
            "redis://127.0.0.1:99999/0",
            "redis://127.0.0.1:port/0",
            "unix:///run/redis.sock?db=x",
            "unix://",
            "redis://127.0.0.1:6379/0?socket_timeout=banana",
            "redis://127.0.0.1:6379/0?health_check_interval=soon",
            "redis://127.0.0.1:6379/0?no_such_option=1",
            "rediss://127.0.0.1:6379/0?ssl_cert_reqs=maybe",
            "redis://[127.0.0.1:6379/0",
        ),
    ),
    Variable(
        "NAMFEEDS_SOURCE_URLS",
        DEFAULT_SOURCE_URLS,
        "HTTPS://Example.org:443/ http://mirror.test:8080",
        ("https://example.org", "http://mirror.test:8080"),
        (
            "ftp://example.org",
            "example.org",
            "https://user:pass@example.org",
            "https://user@example.org",
            "https://example.org:99999",
            "https://example.org:0",
            "https://example.org:https",
            "https://example.org/en/",
            "https://example.org?x=1",
        ),
    ),
    Variable(
        "NAMFEEDS_ORIGIN_MAP",
        {},
        f"{WIX}:443=http://127.0.0.1:8001; https://belarus-nau.org=http://[::1]:8002/",
        {WIX: "http://127.0.0.1:8001", "https://belarus-nau.org": "http://[::1]:8002"},
        (
            "https://www.belarus-nau.org",
            "https://example.org=http://127.0.0.1:8001",
            "http://www.belarus-nau.org=http://127.0.0.1:8001",
            f"{WIX}=http://127.0.0.1:99999",
            f"{WIX}=http://me:pw@127.0.0.1:8001",
            f"{WIX}=file:///srv/mirror",
        ),
    ),
    Variable(
        "NAMFEEDS_PUBLIC_URL",
        "http://127.0.0.1:8080",
        "https://feeds.example.org/",
        "https://feeds.example.org",
        ("feeds.example.org", "ftp://feeds.example.org", "http://[feeds.example.org/"),
    ),
    Variable(
        "NAMFEEDS_ADMIN_TOKEN",
        None,
        "t" * 16,
        "t" * 16,
        ("short", "with a space inside it", "tökentökentökentöken"),
    ),
    Variable("NAMFEEDS_CRAWL_INTERVAL", 900, "60", 60, ("9", "604801", "1.5", "often")),
    Variable("NAMFEEDS_CRAWL_DELAY", 1.0, "0.25", 0.25, ("-1", "61", "soon")),
    Variable("NAMFEEDS_FEED_SIZE", 50, "10", 10, ("0", "1001", "many")),
    Variable(
        "NAMFEEDS_DATA_DIR",
        default_data_dir(),
        "/tmp/nam-feeds-settings-test/not/yet/there",
        Path("/tmp/nam-feeds-settings-test/not/yet/there"),
        ("/etc/passwd", "/etc/passwd/data", "/dev/null"),
    ),
    Variable(
        "NAMFEEDS_USER_AGENT",
        DEFAULT_USER_AGENT,
        "my-crawler/1.0 (+https://example.org/bot; ops@example.org)",
        "my-crawler/1.0 (+https://example.org/bot; ops@example.org)",
        ("nam-feeds\x7f", "nam-féeds/1.0", "nam-feeds/1.0 ✓", "nam\tfeeds", "nam\r\nX: y"),
    ),
    Variable("NAMFEEDS_FETCH_TIMEOUT", 10.0, "2.5", 2.5, ("0", "301", "long")),
    Variable("NAMFEEDS_MAX_BODY_BYTES", 5 << 20, "2048", 2048, ("1023", str(1 << 31), "5MB")),
    Variable("NAMFEEDS_MAX_RETRIES", 4, "0", 0, ("-1", "21", "some")),
    Variable("NAMFEEDS_FETCH_DEADLINE", 30.0, "2.5", 2.5, ("0", "3601", "soon")),
    Variable("NAMFEEDS_RETRY_BUDGET", 60.0, "0", 0.0, ("-1", "86401", "lots")),
    Variable("NAMFEEDS_CRAWL_RETRY_BUDGET", 600.0, "30", 30.0, ("-1", "86401", "lots")),
    Variable("NAMFEEDS_REVALIDATE_AFTER", 86400, "0", 0, ("-1", str(30 * 86400 + 1), "1d")),
    Variable("NAMFEEDS_MAX_URLS_PER_CRAWL", 20_000, "500", 500, ("0", "10000001", "many")),
    Variable("NAMFEEDS_MAX_URLS_PER_SITEMAP", 50_000, "100", 100, ("0", "10000001", "1e4")),
    Variable(
        "NAMFEEDS_WEBSUB_HUB",
        None,
        "https://hub.example.org/",
        "https://hub.example.org",
        ("hub.example.org", "ftp://hub.example.org"),
    ),
    Variable("NAMFEEDS_ACCESS_LOG", True, "OFF", False, ("maybe", "2", "enabled")),
    Variable(
        "NAMFEEDS_FEED_DIR",
        None,
        "/tmp/nam-feeds-settings-test/feeds",
        Path("/tmp/nam-feeds-settings-test/feeds"),
        ("/etc/passwd", "/etc/passwd/feeds", "/dev/null"),
    ),
]
BY_NAME = {v.name: v for v in VARIABLES}
BAD = [(v.name, raw) for v in VARIABLES for raw in v.bad]


def test_the_fetch_deadline_follows_the_read_timeout_unless_set() -> None:
    assert Settings.from_env({"NAMFEEDS_FETCH_TIMEOUT": "2"}).fetch_deadline == 6.0
    both = {"NAMFEEDS_FETCH_TIMEOUT": "2", "NAMFEEDS_FETCH_DEADLINE": "45"}
    assert Settings.from_env(both).fetch_deadline == 45.0


def test_every_setting_has_a_variable_in_this_table() -> None:
    assert {f.name for f in dataclasses.fields(Settings)} == {v.attribute for v in VARIABLES}


# A blank value means the default, except where the default would hide a mistake.
BLANK_IS_AN_ERROR = {"NAMFEEDS_ADMIN_TOKEN"}


@pytest.mark.parametrize("name", BY_NAME)
def test_default(name: str) -> None:
    variable = BY_NAME[name]
    assert getattr(Settings.from_env({}), variable.attribute) == variable.default
    if name not in BLANK_IS_AN_ERROR:
        blank = Settings.from_env({name: "  "})
        assert getattr(blank, variable.attribute) == variable.default


@pytest.mark.parametrize("blank", ["", " ", "\t  "])
def test_blank_admin_token_is_an_error(blank: str) -> None:
    with pytest.raises(ConfigError, match="NAMFEEDS_ADMIN_TOKEN: is set but blank"):
        Settings.from_env({"NAMFEEDS_ADMIN_TOKEN": blank})


def test_variable_names_follow_the_fields() -> None:
    assert set(variable_names()) == set(BY_NAME)


def test_misspelled_variable_gets_the_closest_name() -> None:
    env = {
        "NAMFEEDS_CRAWL_DELEY": "0",
        "NAMFEEDS_FEEDSIZE": "3",
        "NAMFEEDS_ZZZ": "1",
        "NAMFEEDS_CRAWL_DELAY": "0",
        "NAMFEEDS_TEST_REDIS_URL": "redis://127.0.0.1:1/0",
        "NAMFEEDS_PORT": "8080",
        "HOME": "/root",
    }
    assert unknown_variables(env) == [
        ("NAMFEEDS_CRAWL_DELEY", "NAMFEEDS_CRAWL_DELAY"),
        ("NAMFEEDS_FEEDSIZE", "NAMFEEDS_FEED_SIZE"),
        ("NAMFEEDS_ZZZ", None),
    ]


def test_redis_url_option_error_names_the_option_not_the_password() -> None:
    url = "redis://:hunter2@127.0.0.1:6379/0?socket_timeout=banana"
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"NAMFEEDS_REDIS_URL": url})
    assert "socket_timeout" in str(caught.value) and "hunter2" not in str(caught.value)


def test_unparsable_redis_url_hides_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"NAMFEEDS_REDIS_URL": "redis://:hunter2@[127.0.0.1:6379/0"})
    assert "hunter2" not in str(caught.value) and "IPv6" in str(caught.value)


def test_redis_url_with_good_options_is_accepted() -> None:
    url = "redis://127.0.0.1:6379/2?socket_timeout=1.5&socket_connect_timeout=1"
    assert Settings.from_env({"NAMFEEDS_REDIS_URL": url}).redis_url == url


def test_default_data_dir_is_absolute_and_per_user() -> None:
    path = Settings.from_env({}).data_dir
    assert path.is_absolute() and path.name == "nam-feeds"


def test_relative_data_dir_is_made_absolute_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"NAMFEEDS_DATA_DIR": "store"})
    assert settings.data_dir == tmp_path / "store"


@pytest.mark.parametrize("name", BY_NAME)
def test_good_value(name: str) -> None:
    variable = BY_NAME[name]
    settings = Settings.from_env({name: variable.good})
    assert getattr(settings, variable.attribute) == variable.parsed


@pytest.mark.parametrize(("name", "raw"), BAD)
def test_bad_value_names_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: raw})
    assert caught.value.variable == name
    assert str(caught.value).startswith(f"settings: {name}: ")


def test_origin_map_key_must_be_a_source_origin() -> None:
    env = {
        "NAMFEEDS_SOURCE_URLS": "https://example.org",
        "NAMFEEDS_ORIGIN_MAP": f"{WIX}=http://127.0.0.1:8001",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    assert "NAMFEEDS_ORIGIN_MAP" in message and "NAMFEEDS_SOURCE_URLS" in message
    assert WIX in message and "https://example.org" in message
    env["NAMFEEDS_SOURCE_URLS"] = f"https://example.org {WIX}"
    assert Settings.from_env(env).origin_map == {WIX: "http://127.0.0.1:8001"}


def test_redis_password_is_not_shown_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"NAMFEEDS_REDIS_URL": "redis://:hunter2@127.0.0.1:99999/0"})
    assert "hunter2" not in str(caught.value)


def test_redis_unix_socket_with_a_database_is_accepted() -> None:
    url = "unix:///run/redis/redis.sock?db=3"
    assert Settings.from_env({"NAMFEEDS_REDIS_URL": url}).redis_url == url


def test_existing_directory_is_a_good_data_dir(tmp_path: Path) -> None:
    assert Settings.from_env({"NAMFEEDS_DATA_DIR": str(tmp_path)}).data_dir == tmp_path


def test_data_dir_that_is_a_file_is_named_in_the_error(tmp_path: Path) -> None:
    file = tmp_path / "data"
    file.write_text("not a directory")
    with pytest.raises(ConfigError, match="NAMFEEDS_DATA_DIR: .*data exists and is not a dir"):
        Settings.from_env({"NAMFEEDS_DATA_DIR": str(file / "redis")})


def test_allowed_origins_fill_in_default_ports() -> None:
    settings = Settings.from_env({"NAMFEEDS_SOURCE_URLS": "https://a.org http://b.org:8080"})
    assert settings.allowed_origins == {("https", "a.org", 443), ("http", "b.org", 8080)}
    assert settings.allowed_hosts == {"a.org", "b.org"}
