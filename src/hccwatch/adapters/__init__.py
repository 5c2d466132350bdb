"""Adapters at the edge: they map and transport, and call :func:`hccwatch.assess`.

No clinical rule lives here; every decision stays in :mod:`hccwatch.core`.
"""
