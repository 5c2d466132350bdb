"""Every web feature's router, one line per module (the app includes them in this order)."""

from __future__ import annotations

from fastapi import APIRouter

from hccwatch.web import admin, entry, import_page, login, patient, quick, symptom_check, worklist

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    login.router,
    entry.router,
    quick.router,
    import_page.router,
    worklist.router,
    admin.router,
    patient.router,
    symptom_check.router,
]
