"""The console fixtures (`site`, `http`) for the security tests, shared from tests/web/console."""

from tests.web.console.conftest import http, site

__all__ = ["http", "site"]
