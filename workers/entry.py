"""The module `dtg worker` hands to the `dramatiq` CLI: configures the broker from the environment."""

from __future__ import annotations

from app.settings import Settings
from workers.broker import configure_broker

broker = configure_broker(Settings.from_env())
