"""The web app: server-rendered pages at ``/`` beside the REST API and CDS Hooks.

It reads and writes only through the registry's service layer and shows what
:func:`hccwatch.assess` said (stored assessments, typed views in :mod:`hccwatch.report.cards`);
no clinical rule lives here. :func:`mount` adds it to the FastAPI app.
"""

from hccwatch.web.app import mount

__all__ = ["mount"]
