"""The hccwatch server: one ASGI application for the REST API, CDS Hooks and (later) the web app.

Run it with ``hccwatch serve``; settings come from environment variables (``docs/server.md``).
"""

from hccwatch.app.server.app import SERVICES, create_app
from hccwatch.app.server.settings import ENV_TABLE, Settings, SettingsError

__all__ = ["ENV_TABLE", "SERVICES", "Settings", "SettingsError", "create_app"]
