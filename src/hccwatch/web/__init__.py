"""The web app: server-rendered pages over the registry (see docs/architecture.md)."""
