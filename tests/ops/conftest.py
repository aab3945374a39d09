"""The web tests' app (a fresh SQLite database, a fake install-key server) serves the ops tests too."""

from __future__ import annotations

from tests.web.conftest import app_under_test  # noqa: F401  (re-exported as a fixture)
