"""The admin's import page: upload a file, read the dry run as a diff, then
submit it. Non-administrators' imports always go through review.

The upload is kept on the server between the dry run and the submit (under
``GLOSSARY_IMPORT_UPLOADS``, named by a random token held in the session),
so what is submitted is exactly what was shown; it is deleted once submitted,
and uploads left for a day are swept on the next upload.
"""

import secrets
import shutil
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from terms.documents.diffs import diff_rows
from terms.formats.import_files import unpack_upload
from terms.workflow.importer import import_paths

#: Uploads older than this are removed when the next one arrives.
KEPT_SECONDS = 24 * 3600
SESSION_KEY = "glossary_import_upload"


class ImportForm(forms.Form):
    """The file to import and, for administrators, whether to skip review."""

    file = forms.FileField(
        help_text="A term file (.yml), a .zip of term files, .ttl, .rdf, .jsonld "
        "or .csv."
    )
    direct = forms.BooleanField(
        required=False,
        label="Import directly (administrators): write approved terms at once "
        "instead of proposing the changes for review",
    )


def _uploads() -> Path:
    return Path(settings.GLOSSARY_IMPORT_UPLOADS)


def _sweep() -> None:
    folder = _uploads()
    if not folder.exists():
        return
    for entry in folder.iterdir():
        if entry.is_dir() and time.time() - entry.stat().st_mtime > KEPT_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)


def _report_context(report) -> dict:
    """The dry run as the page shows it: counts, problems, and each changed
    term's fields before and after with a word-level diff."""
    changed = []
    for slug, (before, after) in sorted(report.documents.items()):
        changed.append(
            {
                "slug": slug,
                "kind": "new"
                if before is None
                else "proposed"
                if slug in report.proposed
                else "edited",
                "rows": diff_rows(before or {}, after),
            }
        )
    return {"report": report, "changed": changed}


def import_view(model_admin, request):
    """GET: the form. POST with a file: the dry run. POST ``submit``: import
    the file shown in the dry run."""
    user = request.user
    if not (user.has_perm("terms.add_term") or user.has_perm("terms.change_term")):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Import terms",
        "opts": model_admin.model._meta,
    }
    if request.method == "POST" and "submit" in request.POST:
        return _submit(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if not user.is_superuser:
        form.fields.pop("direct")
    if request.method != "POST" or not form.is_valid():
        return TemplateResponse(
            request, "admin/terms/term/import.html", {**context, "form": form}
        )
    _sweep()
    token = secrets.token_hex(16)
    folder = _uploads() / token
    folder.mkdir(parents=True)
    upload = form.cleaned_data["file"]
    limit = settings.GLOSSARY_IMPORT_MAX_BYTES
    if upload.size > limit:
        form.add_error(
            "file", f"The file is {upload.size:,} bytes; the limit is {limit:,}."
        )
        shutil.rmtree(folder, ignore_errors=True)
        return TemplateResponse(
            request, "admin/terms/term/import.html", {**context, "form": form}
        )
    paths, problems = unpack_upload(upload.name, upload, folder, limit)
    if problems:
        for problem in problems:
            form.add_error("file", f"{problem.file}: {problem.message}")
        shutil.rmtree(folder, ignore_errors=True)
        return TemplateResponse(
            request, "admin/terms/term/import.html", {**context, "form": form}
        )
    propose = not (user.is_superuser and form.cleaned_data.get("direct"))
    report = import_paths(
        paths, dry_run=True, actor=user, propose=propose, details=True
    )
    request.session[SESSION_KEY] = {
        "token": token,
        "paths": [str(p.relative_to(folder)) if p != folder else "" for p in paths],
        "propose": propose,
        "name": upload.name,
    }
    return TemplateResponse(
        request,
        "admin/terms/term/import.html",
        {**context, **_report_context(report), "name": upload.name, "propose": propose},
    )


def _submit(request):
    kept = request.session.pop(SESSION_KEY, None)
    if not kept or request.POST.get("token") != kept["token"]:
        messages.error(request, "That upload is gone; upload the file again.")
        return redirect("admin:terms_term_import")
    folder = _uploads() / kept["token"]
    if not folder.exists():
        messages.error(request, "That upload is gone; upload the file again.")
        return redirect("admin:terms_term_import")
    try:
        paths = [folder / p if p else folder for p in kept["paths"]]
        report = import_paths(paths, actor=request.user, propose=kept["propose"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if report.errors:
        for error in report.errors[:20]:
            messages.error(request, str(error))
        messages.error(request, "Nothing was imported.")
        return redirect("admin:terms_term_import")
    messages.success(
        request,
        f"Imported {kept['name']}: {len(report.created)} new, "
        f"{len(report.updated)} edited, {len(report.proposed)} proposed for review, "
        f"{len(report.unchanged)} unchanged.",
    )
    return redirect("admin:terms_term_changelist")
