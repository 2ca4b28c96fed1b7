"""Parley's HTTP API: FastAPI routes (thin) over SupportService and AgentDesk, plus the widget's static files.

Build the app with `assistant.api.app.create_app(settings)` (not imported here: `parley` loads this package's
CLI module, which must stay light).
"""
