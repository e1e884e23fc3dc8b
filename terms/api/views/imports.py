"""``POST /api/v1/imports/``: an import from the browser or a script, through
review unless an administrator says otherwise."""

import tempfile
from pathlib import Path

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from terms.api.base import WriteView
from terms.api.errors import error_body
from terms.api.parsers import PayloadTooLarge
from terms.api.schema import errors
from terms.formats.import_files import unpack_upload
from terms.workflow.importer import import_paths


class ImportRequestSerializer(serializers.Serializer):
    """What an import takes: one file, and how to run it."""

    file = serializers.FileField(
        help_text=(
            "A term file (.yml), a .zip of term files, or a file of many terms "
            "(.ttl, .rdf, .jsonld, .csv)."
        )
    )
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Report what would change; write nothing.",
    )
    propose = serializers.BooleanField(
        required=False,
        default=True,
        help_text=(
            "Through review: new terms as drafts, changes to reviewed or approved "
            "terms as pending changes. Always on for users who are not "
            "administrators."
        ),
    )


def import_limit() -> int:
    """The largest upload, and the most a zip may unpack to, in bytes."""
    return settings.GLOSSARY_IMPORT_MAX_BYTES


class ImportView(WriteView):
    """Run an import as the signed-in user; answer its report."""

    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        summary="Import a file: a dry run, or through review (editors)",
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=(
                    "The import report: created, updated, proposed, unchanged, "
                    "warnings, and `diffs` (each changed term's fields before "
                    "and after)."
                ),
            ),
            413: OpenApiResponse(OpenApiTypes.OBJECT, description="Too large."),
            **errors(400, 401, 403),
        },
    )
    def post(self, request):
        limit = import_limit()
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdecimal() and int(declared) > limit + 64 * 1024:
            raise PayloadTooLarge(
                f"The upload is {int(declared):,} bytes; the limit is {limit:,}."
            )
        user = request.user
        if not (user.has_perm("terms.add_term") or user.has_perm("terms.change_term")):
            raise PermissionDenied("Importing takes the right to add or change terms.")
        body = ImportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        if upload.size > limit:
            raise PayloadTooLarge(
                f"The file is {upload.size:,} bytes; the limit is {limit:,}."
            )
        propose = body.validated_data["propose"] or not user.is_superuser
        with tempfile.TemporaryDirectory(prefix="glossary-upload-") as folder:
            paths, problems = unpack_upload(upload.name, upload, Path(folder), limit)
            if problems:
                raise ValidationError(
                    {"file": [f"{p.file}: {p.message}" for p in problems]}
                )
            report = import_paths(
                paths,
                dry_run=body.validated_data["dry_run"],
                actor=user,
                propose=propose,
                details=True,
            )
        data = {**report.as_dict(), "propose": propose, "diffs": report.diffs()}
        data["rows"] = [_without_folder(row, folder) for row in data["rows"]]
        for key in ("warnings", "errors"):
            data[key] = [_without_folder(item, folder) for item in data[key]]
        if report.errors:
            message = f"{len(report.errors)} problem(s) found; nothing was written."
            details = [
                {"field": e["field"], "message": f"{e['file'] or ''}: {e['message']}"}
                for e in data["errors"]
            ]
            body = error_body(400, "invalid", message, details)
            return Response(
                {**body, "report": data}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(data)


def _without_folder(item: dict, folder: str) -> dict:
    """A report entry naming the uploaded file, not the server's temporary
    folder it was unpacked into."""
    where = item.get("file")
    if isinstance(where, str) and where.startswith(folder):
        item = {**item, "file": where[len(folder) :].lstrip("/")}
    return item
