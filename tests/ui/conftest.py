"""Console test fixtures (the live API server is session-wide, shared by the console test modules)."""

from tests.ui.console_live import console, live_api

__all__ = ["console", "live_api"]
