"""Data entry: a new patient, and adding, editing and deleting each kind of record entry.

Every change goes through the registry (``add_patient``, ``update_record``, ``set_contact``),
which checks the role, re-assesses and audits it, and refuses an edit based on an older version
(someone else saved meanwhile): the page then shows who changed the patient and when, with the
stored entry beside the one typed, instead of overwriting either. The record's own validation
(``parse_record``) is the only validation; its problems come back at the form's fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from hccwatch.registry import Action, ConflictError, NotFoundError, PatientView, RegistryError
from hccwatch.web import forms
from hccwatch.web.deps import WebUser, csrf_form, registry, require
from hccwatch.web.forms import CONTACT_FIELDS, FORM, EntryKind
from hccwatch.web.render import render
from hccwatch.web.widgets import form_errors, widgets

__all__ = ["flash_messages", "router"]

router = APIRouter()

Editor = Annotated[WebUser, Depends(require(Action.EDIT_RECORD))]
Form = Annotated[FormData, Depends(csrf_form)]

# What a save says on the patient page (a code in the redirect, never text from the request).
_DONE = {
    "added": "Patient added and assessed.",
    "saved": "{title} saved; the assessment was recomputed.",
    "deleted": "{title} deleted; the assessment was recomputed.",
    "contact": "Contact details saved.",
}


def flash_messages(request: Request) -> list[tuple[str, str]]:
    """The message of the save that led to this page (``?done=...&kind=...``), for the patient page."""
    done = request.query_params.get("done")
    if done not in _DONE:
        return []
    k = forms.kind(request.query_params.get("kind", ""))
    return [("ok", _DONE[done].format(title=k.title if k is not None else "Entry"))]


def _patient_url(patient_id: int, done: str, kind: str | None = None) -> str:
    query = {"done": done} | ({"kind": kind} if kind else {})
    return f"/patients/{patient_id}?{urlencode(query)}"


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _form_dict(form: FormData) -> dict[str, list[str]]:
    """Every text value of the form (uploads are no record entry)."""
    return {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}


def _kind(key: str) -> EntryKind:
    k = forms.kind(key)
    if k is None:
        raise NotFoundError(f"there is no form for {key!r}")
    return k


def _version(form: Mapping[str, list[str]]) -> int | None:
    raw = (form.get("version") or [""])[-1]
    # str.isdigit() is also true of superscripts such as "¹", which int() refuses.
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def _entry_name(k: EntryKind, record: Mapping[str, Any], index: int | None) -> str:
    if index is None or not k.is_list:
        return k.title
    items = record.get(k.collection or "") or []
    item = items[index] if 0 <= index < len(items) else {}
    when = item.get("date") or item.get("onset")
    return f"{k.title} of {when}" if when else k.title


def _title(k: EntryKind, patient: PatientView | None, index: int | None) -> str:
    if patient is None:
        return "New patient"
    verb = "Add" if k.is_list and index is None else "Edit"
    return f"{verb}: {k.title}"


def _page(
    request: Request,
    *,
    k: EntryKind,
    action: str,
    patient: PatientView | None,
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    lesion_rows: int,
    version: int | None,
    index: int | None = None,
    conflict: dict[str, Any] | None = None,
    contact: tuple[Mapping[str, Any], Mapping[str, list[str]]] | None = None,
    status: int = 200,
) -> Response:
    record = patient.record if patient is not None else {}
    lesion_widgets = [widgets(row, values, errors) for row in k.lesion_rows(lesion_rows)]
    context = {
        "kind": k,
        "title": _title(k, patient, index),
        "entry_name": _entry_name(k, record, index),
        "action": action,
        "patient": patient,
        "fields": widgets(k.fields, values, errors),
        "lesions": lesion_widgets,
        "form_errors": form_errors(errors),
        "has_errors": bool(errors),
        "version": version,
        "conflict": conflict,
        "contact": widgets(CONTACT_FIELDS, contact[0], contact[1]) if contact is not None else None,
        "id_locked": patient is not None and k.key == "details",
    }
    return render(request, "entry/form.html", context, status)


def _conflict(
    request: Request,
    user: WebUser,
    patient_id: int,
    k: EntryKind,
    index: int | None,
    typed: Mapping[str, Any],
    expected: int | None,
) -> tuple[PatientView, dict[str, Any]]:
    """What the conflict page shows: who changed the patient and when, the entry now stored and
    the one typed, field by field."""
    reg = registry(request)
    current = reg.get_patient(user.actor, patient_id)
    change = reg.last_change(user.actor, patient_id)
    stored, _ = forms.entry_values(k, current.record, index)
    rows = []
    for spec in forms.entry_specs(k, forms.submitted_lesion_rows(typed)):
        mine, theirs = typed.get(spec.name, ""), stored.get(spec.name, "")
        if mine or theirs:
            rows.append(
                {"label": spec.name if "[" in spec.name else spec.label, "mine": mine, "stored": theirs}
            )
    who = change.actor if change is not None else "someone else"
    when = change.at.strftime("%Y-%m-%d %H:%M UTC") if change is not None else "an unknown time"
    info = {
        "who": who,
        "when": when,
        "opened": expected,
        "now": current.version,
        "rows": rows,
        "gone": index is not None and not _still_there(k, current.record, index),
    }
    return current, info


def _still_there(k: EntryKind, record: Mapping[str, Any], index: int) -> bool:
    items = record.get(k.collection or "") or []
    return 0 <= index < len(items) and k.matches(items[index])


def _patient_for_form(request: Request, user: WebUser, patient_id: int) -> PatientView:
    reg = registry(request)
    patient = reg.get_patient(user.actor, patient_id)
    reg.record_view(user.actor, patient_id)  # a form shows the patient's data: a view
    return patient


def _list_index(k: EntryKind, patient: PatientView, index: int) -> int:
    if not k.is_list or not _still_there(k, patient.record, index):
        raise NotFoundError(f"patient {patient.record_id} has no {k.title.lower()} number {index}")
    return index


# -- new patient ---------------------------------------------------------------------------------


@router.get("/patients/new")
def new_patient_form(request: Request, user: Editor) -> Response:
    k = _kind("details")
    values, rows = forms.entry_values(k, None)
    return _page(
        request,
        k=k,
        action="/patients/new",
        patient=None,
        values=values,
        errors={},
        lesion_rows=rows,
        version=None,
        contact=(forms.contact_values(None, None, None), {}),
    )


@router.post("/patients/new")
def new_patient(request: Request, user: Editor, form: Form) -> Response:
    k = _kind("details")
    typed = _form_dict(form)
    result = forms.submit_entry(k, None, typed, knowledge=registry(request).knowledge)
    contact, contact_errors, contact_typed = forms.read_contact(typed)
    errors = dict(result.errors)
    if result.ok and not contact_errors and result.record is not None:
        try:
            view = registry(request).add_patient(user.actor, result.record, **contact)
        except RegistryError as exc:  # the record id is taken
            errors = {"id": [str(exc)]}
        else:
            return _redirect(_patient_url(view.id, "added"))
    return _page(
        request,
        k=k,
        action="/patients/new",
        patient=None,
        values=result.values,
        errors=errors,
        lesion_rows=0,
        version=None,
        contact=(contact_typed, contact_errors),
        status=422,
    )


# -- contact details (registry columns; the service decides who may change them) ---------------


@router.get("/patients/{patient_id:int}/edit/contact")
def contact_form(request: Request, user: Editor, patient_id: int) -> Response:
    patient = _patient_for_form(request, user, patient_id)
    return _contact_page(
        request, patient, forms.contact_values(patient.name, patient.phone, patient.family_doctor)
    )


def _contact_page(
    request: Request,
    patient: PatientView,
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]] | None = None,
    *,
    version: int | None = None,
    conflict: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "patient": patient,
        "fields": widgets(CONTACT_FIELDS, values, errors or {}),
        "form_errors": form_errors(errors or {}),
        "version": version if version is not None else patient.version,
        "conflict": conflict,
    }
    return render(request, "entry/contact.html", context, status)


@router.post("/patients/{patient_id:int}/edit/contact")
def save_contact(request: Request, user: Editor, form: Form, patient_id: int) -> Response:
    typed = _form_dict(form)
    reg = registry(request)
    contact, errors, values = forms.read_contact(typed)
    version = _version(typed)
    if errors or version is None:
        patient = reg.get_patient(user.actor, patient_id)
        if version is None:
            errors = {**errors, FORM: ["the form lost its version number; reload the page and try again"]}
        return _contact_page(request, patient, values, errors, version=version, status=422)
    try:
        reg.set_contact(user.actor, patient_id, expected_version=version, **contact)
    except ConflictError:
        current = reg.get_patient(user.actor, patient_id)
        change = reg.last_change(user.actor, patient_id)
        stored = forms.contact_values(current.name, current.phone, current.family_doctor)
        info = _contact_conflict(change, version, current, values, stored)
        return _contact_page(request, current, values, version=current.version, conflict=info, status=409)
    return _redirect(_patient_url(patient_id, "contact"))


def _contact_conflict(
    change: Any, opened: int, current: PatientView, mine: Mapping[str, Any], stored: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "who": change.actor if change is not None else "someone else",
        "when": change.at.strftime("%Y-%m-%d %H:%M UTC") if change is not None else "an unknown time",
        "opened": opened,
        "now": current.version,
        "rows": [
            {"label": s.label, "mine": mine.get(s.name, ""), "stored": stored.get(s.name, "")}
            for s in CONTACT_FIELDS
        ],
        "gone": False,
    }


# -- add, edit ------------------------------------------------------------------------------------


def _entry_form(
    request: Request, user: WebUser, patient_id: int, key: str, index: int | None, action: str
) -> Response:
    k = _kind(key)
    patient = _patient_for_form(request, user, patient_id)
    if index is not None:
        _list_index(k, patient, index)
    values, rows = forms.entry_values(
        k, patient.record if (index is not None or not k.is_list) else None, index
    )
    return _page(
        request,
        k=k,
        action=action,
        patient=patient,
        values=values,
        errors={},
        lesion_rows=rows,
        version=patient.version,
        index=index,
    )


def _save_entry(
    request: Request, user: WebUser, patient_id: int, key: str, index: int | None, form: FormData, action: str
) -> Response:
    k = _kind(key)
    reg = registry(request)
    typed = _form_dict(form)
    version = _version(typed)
    patient = reg.get_patient(user.actor, patient_id)
    if k.key == "details":
        typed["id"] = [patient.record_id]  # a record id is not changed by an edit
    result = forms.submit_entry(k, patient.record, typed, index=index, knowledge=reg.knowledge)
    errors: dict[str, list[str]] = dict(result.errors)
    if version is None:
        errors.setdefault(FORM, []).append("the form lost its version number; reload the page and try again")
    rows = forms.submitted_lesion_rows(typed) if k.lesion_fields else 0
    if not errors and result.record is not None and version is not None:
        try:
            reg.update_record(user.actor, patient_id, result.record, expected_version=version)
        except ConflictError:
            current, info = _conflict(request, user, patient_id, k, index, result.values, version)
            return _page(
                request,
                k=k,
                action=action,
                patient=current,
                values=result.values,
                errors={},
                lesion_rows=rows,
                version=current.version,
                index=index,
                conflict=info,
                status=409,
            )
        except RegistryError as exc:
            errors = {FORM: [str(exc)]}
        else:
            return _redirect(_patient_url(patient_id, "saved", k.key))
    return _page(
        request,
        k=k,
        action=action,
        patient=patient,
        values=result.values,
        errors=errors,
        lesion_rows=rows,
        version=version,
        index=index,
        status=422,
    )


@router.get("/patients/{patient_id:int}/add/{kind}")
def add_form(request: Request, user: Editor, patient_id: int, kind: str) -> Response:
    return _entry_form(request, user, patient_id, kind, None, f"/patients/{patient_id}/add/{kind}")


@router.post("/patients/{patient_id:int}/add/{kind}")
def add_entry(request: Request, user: Editor, form: Form, patient_id: int, kind: str) -> Response:
    return _save_entry(request, user, patient_id, kind, None, form, f"/patients/{patient_id}/add/{kind}")


@router.get("/patients/{patient_id:int}/edit/{kind}")
def edit_group_form(request: Request, user: Editor, patient_id: int, kind: str) -> Response:
    if _kind(kind).is_list:
        raise NotFoundError(f"say which {kind} to edit (/patients/{patient_id}/edit/{kind}/<number>)")
    return _entry_form(request, user, patient_id, kind, None, f"/patients/{patient_id}/edit/{kind}")


@router.post("/patients/{patient_id:int}/edit/{kind}")
def edit_group(request: Request, user: Editor, form: Form, patient_id: int, kind: str) -> Response:
    if _kind(kind).is_list:
        raise NotFoundError(f"say which {kind} to edit (/patients/{patient_id}/edit/{kind}/<number>)")
    return _save_entry(request, user, patient_id, kind, None, form, f"/patients/{patient_id}/edit/{kind}")


@router.get("/patients/{patient_id:int}/edit/{kind}/{index:int}")
def edit_form(request: Request, user: Editor, patient_id: int, kind: str, index: int) -> Response:
    return _entry_form(request, user, patient_id, kind, index, f"/patients/{patient_id}/edit/{kind}/{index}")


@router.post("/patients/{patient_id:int}/edit/{kind}/{index:int}")
def edit_entry(
    request: Request, user: Editor, form: Form, patient_id: int, kind: str, index: int
) -> Response:
    action = f"/patients/{patient_id}/edit/{kind}/{index}"
    return _save_entry(request, user, patient_id, kind, index, form, action)


# -- delete (a confirmation page, then a POST) ----------------------------------------------------


def _delete_page(
    request: Request,
    patient: PatientView,
    k: EntryKind,
    index: int,
    *,
    version: int,
    problems: list[str] | None = None,
    conflict: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    values, rows = forms.entry_values(k, patient.record, index)
    shown = [w for w in widgets(forms.entry_specs(k, rows), values, {}) if w.value or w.values]
    context = {
        "patient": patient,
        "kind": k,
        "index": index,
        "entry_name": _entry_name(k, patient.record, index),
        "shown": shown,
        "version": version,
        "form_errors": problems or [],
        "conflict": conflict,
    }
    return render(request, "entry/delete.html", context, status)


@router.get("/patients/{patient_id:int}/delete/{kind}/{index:int}")
def delete_confirm(request: Request, user: Editor, patient_id: int, kind: str, index: int) -> Response:
    k = _kind(kind)
    patient = _patient_for_form(request, user, patient_id)
    _list_index(k, patient, index)
    return _delete_page(request, patient, k, index, version=patient.version)


@router.post("/patients/{patient_id:int}/delete/{kind}/{index:int}")
def delete_entry(
    request: Request, user: Editor, form: Form, patient_id: int, kind: str, index: int
) -> Response:
    k = _kind(kind)
    reg = registry(request)
    typed = _form_dict(form)
    version = _version(typed)
    patient = reg.get_patient(user.actor, patient_id)
    if version is None:
        problems = ["the form lost its version number; reload the page and try again"]
        return _delete_page(
            request, patient, k, index, version=patient.version, problems=problems, status=422
        )
    if version != patient.version:
        return _delete_conflict(request, user, patient_id, k, index, version)
    result = forms.remove_entry(k, patient.record, index, knowledge=reg.knowledge)
    if result.record is None:
        return _delete_page(
            request, patient, k, index, version=version, problems=result.errors.get(FORM), status=422
        )
    try:
        reg.update_record(user.actor, patient_id, result.record, expected_version=version)
    except ConflictError:
        return _delete_conflict(request, user, patient_id, k, index, version)
    return _redirect(_patient_url(patient_id, "deleted", k.key))


def _delete_conflict(
    request: Request, user: WebUser, patient_id: int, k: EntryKind, index: int, opened: int
) -> Response:
    reg = registry(request)
    current = reg.get_patient(user.actor, patient_id)
    change = reg.last_change(user.actor, patient_id)
    info = {
        "who": change.actor if change is not None else "someone else",
        "when": change.at.strftime("%Y-%m-%d %H:%M UTC") if change is not None else "an unknown time",
        "opened": opened,
        "now": current.version,
        "rows": [],
        "gone": not _still_there(k, current.record, index),
    }
    if info["gone"]:
        return render(request, "entry/delete.html", _gone_context(current, k, index, info), 409)
    return _delete_page(request, current, k, index, version=current.version, conflict=info, status=409)


def _gone_context(patient: PatientView, k: EntryKind, index: int, info: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient": patient,
        "kind": k,
        "index": index,
        "entry_name": k.title,
        "shown": [],
        "version": patient.version,
        "form_errors": [],
        "conflict": info,
    }
