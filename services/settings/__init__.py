"""Settings: one frozen object built from NAMFEEDS_* environment variables.

Entry points call `Settings.from_env()` once and pass the object down; no other module reads
the environment. Every value is parsed in full there, at start-up, so that a bad one raises
ConfigError naming the variable instead of a traceback later, in some process, on first use.

A new setting is a field of Settings named for its variable (NAMFEEDS_CRAWL_DELAY is
`crawl_delay`), one `get(...)` line in `Settings.from_env` with its parser (one of those in
_settings or _urls, or a new one beside them), and a row in the README;
`unknown_variables` learns the name from the field.

    _settings   Settings, from_env, the variable names and the unknown ones, plain values
    _urls       the parsers of URLs, and origin keys
"""

from services.settings._settings import (
    DEFAULT_SOURCE_URLS,
    DEFAULT_USER_AGENT,
    Settings,
    default_data_dir,
    unknown_variables,
    variable_names,
)
from services.settings._urls import format_origin, origin_key, shown

__all__ = [
    "DEFAULT_SOURCE_URLS",
    "DEFAULT_USER_AGENT",
    "Settings",
    "default_data_dir",
    "format_origin",
    "origin_key",
    "shown",
    "unknown_variables",
    "variable_names",
]
