"""The module `dtg worker` hands to the `dramatiq` CLI: configures the broker from the environment."""

from __future__ import annotations

from app.logs import configure_logging
from app.settings import Settings
from workers.broker import configure_broker

_settings = Settings.from_env()
# Imported in each worker process after the dramatiq CLI set up its text logging: ours replaces it.
configure_logging(_settings, default_format="json")
broker = configure_broker(_settings)
