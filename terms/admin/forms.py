"""Forms of the admin's term page, derived from the term document's declaration.

The change form (term columns plus one inline per part) describes a whole term
document. ``DocumentCheckFormSet`` turns it into that document and validates it
with ``terms.documents.document`` and ``terms.workflow.steps.edit_problems``, so the
admin
refuses exactly what the importer and the API refuse, with the same messages.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from terms.documents.document import FIELDS, TEXT, TermDocument, validate_term_data
from terms.documents.mapping import document_from_instances
from terms.models import Status, Term
from terms.reads.selectors import known_roles
from terms.workflow import steps as workflow

__all__ = ["DocumentCheckFormSet", "TermForm", "admin_fieldsets", "form_document"]

#: Columns the form edits: every document column but the status, which only the
#: workflow sets.
FORM_COLUMNS = tuple(f.column for f in FIELDS if f.column and f.column != "status")
#: Read-only columns shown with them: first section, and last section.
READONLY_HEAD = ("slug", "status", "version", "replaced_by")
READONLY_TAIL = ("updated_at",)


def admin_fieldsets() -> tuple:
    """Fieldsets in document order, one per declared section."""
    sections: dict[str | None, list[str]] = {None: []}
    for spec in FIELDS:
        if spec.column in FORM_COLUMNS:
            sections.setdefault(spec.section, []).append(spec.column)
    sections[None].extend(READONLY_HEAD)
    last = list(sections)[-1]
    sections[last].extend(READONLY_TAIL)
    return tuple(
        (name, {"fields": tuple(columns)}) for name, columns in sections.items()
    )


class TermForm(forms.ModelForm):
    """The term's own columns, as the document declares them."""

    class Meta:
        model = Term
        fields = FORM_COLUMNS
        widgets = {
            spec.column: forms.Textarea(attrs={"rows": spec.lines})
            for spec in FIELDS
            if spec.column in FORM_COLUMNS and spec.kind == TEXT and spec.lines > 1
        }


def _rows(formset) -> list:
    """The rows a formset will hold after saving, in form order."""
    rows = []
    for form in formset.forms:
        if not getattr(form, "cleaned_data", None):
            continue  # an untouched extra form
        if formset.can_delete and formset._should_delete_form(form):
            continue
        rows.append(form.instance)
    return rows


def form_document(term: Term, formsets) -> TermDocument:
    """The (unchecked) term document that the change form describes."""
    if not term.status:
        term.status = Status.DRAFT
    return document_from_instances(
        term, {formset.model: _rows(formset) for formset in formsets}
    )


class DocumentCheckFormSet(BaseInlineFormSet):
    """Validates the whole term document once every part of the form is clean.

    Attached to the first inline; the admin hands it the other formsets.
    """

    siblings: list = []
    stored: Term | None = None

    def clean(self):
        """Refuse the form with every problem of the document it describes."""
        super().clean()
        if any(formset.errors and any(formset.errors) for formset in self.siblings):
            return
        term = self.instance
        if not term.name:
            return
        data = form_document(term, self.siblings).to_data()
        document, problems = validate_term_data(data, known_roles=known_roles())
        if document is not None:
            problems = workflow.edit_problems(document=document, term=self.stored)
        if problems:
            raise ValidationError(
                [
                    f"{problem.field}: {problem.message}"
                    if problem.field
                    else problem.message
                    for problem in problems
                ]
            )
