"""The admin: the editors' and reviewers' main tool.

Editing never writes rows directly. The change form (term fields plus inlines) is
turned into a term document, validated by ``terms.document`` and handed to
``terms.workflow``, which edits a draft in place or stores a pending change for a
reviewed or approved term. Status is not a form field: transitions are buttons
on the change page and bulk actions on the list, all through the workflow.
"""

import difflib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from . import workflow
from .document import (
    TERM_COLUMNS,
    TERM_DOCUMENT_PREFETCH,
    TERM_KEYS,
    document_from_term,
    validate_term_data,
)
from .models import (
    Alias,
    Category,
    ChangeSource,
    Citation,
    Example,
    GovernanceTag,
    PendingChange,
    Relationship,
    Role,
    Status,
    Term,
    TermCategory,
    TermRevision,
    TermRole,
    TermTag,
)
from .naming import term_slug

# --- building a document from the change form ---------------------------------------


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


def admin_document_data(term: Term, formsets) -> dict:
    """The term document that the change form describes."""
    by_model = {formset.model: _rows(formset) for formset in formsets}
    examples = by_model.get(Example, [])
    relationships = by_model.get(Relationship, [])
    tags = [link.tag.name for link in by_model.get(TermTag, [])]
    governance = {}
    if tags:
        governance["nist_rmf_tags"] = tags
    if term.risk_notes:
        governance["risk_notes"] = term.risk_notes
    return {
        "term": term.name,
        "aliases": [alias.name for alias in by_model.get(Alias, [])],
        "categories": [link.category.name for link in by_model.get(TermCategory, [])],
        "roles": [link.role.slug for link in by_model.get(TermRole, [])],
        "part_of_speech": term.part_of_speech,
        "short_def": term.short_def,
        "long_def": term.long_def,
        "audiences": {
            "exec": term.exec_perspective,
            "engineer": term.engineer_perspective,
        },
        "examples": {
            "do": [e.text for e in examples if e.kind == "do"],
            "dont": [e.text for e in examples if e.kind == "dont"],
        },
        "governance": governance,
        "relationships": {
            kind: [r.target_name for r in relationships if r.kind == kind]
            for kind in ("broader", "narrower", "related")
            if any(r.kind == kind for r in relationships)
        },
        "citations": [
            {"source": c.source, "url": c.url} for c in by_model.get(Citation, [])
        ],
        "license": term.license,
        "status": term.status or Status.DRAFT,
        "last_reviewed": term.last_reviewed.isoformat() if term.last_reviewed else None,
    }


class DocumentCheckFormSet(BaseInlineFormSet):
    """Validates the whole term document once every part of the form is clean.

    Attached to the first inline; ``TermAdmin`` hands it the other formsets.
    """

    siblings: list = []
    original_slug: str | None = None

    def clean(self):
        super().clean()
        if any(formset.errors and any(formset.errors) for formset in self.siblings):
            return
        term = self.instance
        if not term.name:
            return
        data = admin_document_data(term, self.siblings)
        known_roles = set(Role.objects.values_list("slug", flat=True))
        _, problems = validate_term_data(data, known_roles=known_roles)
        messages_ = [
            f"{problem.field}: {problem.message}" if problem.field else problem.message
            for problem in problems
        ]
        slug = term_slug(term.name)
        if self.original_slug and slug != self.original_slug:
            messages_.append(
                f"the name {term.name!r} would change the slug to {slug!r}; "
                "create a new term to rename one"
            )
        if not self.original_slug and Term.objects.filter(slug=slug).exists():
            messages_.append(f"a term with the slug {slug!r} already exists")
        if messages_:
            raise ValidationError(messages_)


class OrderedInline(admin.TabularInline):
    extra = 1
    exclude = ("position",)


class AliasInline(OrderedInline):
    model = Alias
    fields = ("name",)
    formset = DocumentCheckFormSet
    verbose_name_plural = "aliases (at least one)"


class CategoryInline(OrderedInline):
    model = TermCategory
    fields = ("category",)
    verbose_name_plural = "categories (the first is the primary one)"


class RoleInline(OrderedInline):
    model = TermRole
    fields = ("role",)


class TagInline(OrderedInline):
    model = TermTag
    fields = ("tag",)
    verbose_name_plural = "governance tags"


class ExampleInline(OrderedInline):
    model = Example
    fields = ("kind", "text")


class CitationInline(OrderedInline):
    model = Citation
    fields = ("source", "url")
    formfield_overrides = {
        models.URLField: {"assume_scheme": "https", "widget": forms.URLInput}
    }


class RelationshipInline(OrderedInline):
    model = Relationship
    fk_name = "term"
    fields = ("kind", "target_name", "target")
    readonly_fields = ("target",)
    verbose_name_plural = "relationships (targets by name, alias or slug)"


class TermForm(forms.ModelForm):
    class Meta:
        model = Term
        # Every column of the document but the status, which only the workflow sets.
        fields = tuple(column for column in TERM_COLUMNS if column != "status")
        widgets = {
            "short_def": forms.Textarea(attrs={"rows": 2}),
            "exec_perspective": forms.Textarea(attrs={"rows": 2}),
            "engineer_perspective": forms.Textarea(attrs={"rows": 2}),
            "risk_notes": forms.Textarea(attrs={"rows": 2}),
        }


# --- the term admin -----------------------------------------------------------------


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    """Terms: edit through the workflow, act on them with buttons and bulk actions."""

    form = TermForm
    change_form_template = "admin/terms/term/change_form.html"
    change_list_template = "admin/terms/term/change_list.html"
    inlines = [
        AliasInline,
        CategoryInline,
        RoleInline,
        TagInline,
        ExampleInline,
        CitationInline,
        RelationshipInline,
    ]
    list_display = (
        "name",
        "status",
        "primary_category",
        "last_reviewed",
        "has_pending",
    )
    list_filter = ("status", "categories", "roles", "tags")
    search_fields = ("name", "slug", "aliases__name")
    readonly_fields = ("slug", "status", "version", "replaced_by", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "slug", "status", "version", "replaced_by")}),
        ("Definition", {"fields": ("part_of_speech", "short_def", "long_def")}),
        ("Audiences", {"fields": ("exec_perspective", "engineer_perspective")}),
        (
            "Governance",
            {"fields": ("risk_notes", "license", "last_reviewed", "updated_at")},
        ),
    )
    actions = [
        "review_selected",
        "approve_selected",
        "deprecate_selected",
        "restore_selected",
    ]
    list_per_page = 50

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("term_categories__category")
            .annotate(
                pending_exists=Exists(PendingChange.objects.filter(term=OuterRef("pk")))
            )
        )

    @admin.display(description="primary category")
    def primary_category(self, term):
        links = list(term.term_categories.all())
        return links[0].category.name if links else "-"

    @admin.display(
        description="pending change", boolean=True, ordering="pending_exists"
    )
    def has_pending(self, term):
        return term.pending_exists

    # Editing goes through the workflow, never straight to the rows.

    def _create_formsets(self, request, obj, change):
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        original = Term.objects.filter(pk=obj.pk).values_list("slug", flat=True).first()
        for formset in formsets:
            if isinstance(formset, DocumentCheckFormSet):
                formset.siblings = formsets
                formset.original_slug = original
        return formsets, inline_instances

    def construct_change_message(self, request, form, formsets, add=False):
        # The formsets are never saved, so Django's per-row summary does not apply;
        # the term's own history holds the detail.
        return [{"added": {}}] if add else [{"changed": {"fields": ["term document"]}}]

    def save_model(self, request, obj, form, change):
        """Nothing here: ``save_related`` writes the whole document at once."""

    def save_related(self, request, form, formsets, change):
        term = form.instance
        data = admin_document_data(term, formsets)
        known_roles = set(Role.objects.values_list("slug", flat=True))
        document, problems = validate_term_data(data, known_roles=known_roles)
        if problems:  # DocumentCheckFormSet refused these already.
            raise ValidationError([str(problem) for problem in problems])
        try:
            if change:
                stored = Term.objects.get(pk=term.pk)
                result = workflow.term_edit(
                    term=stored,
                    document=document,
                    actor=request.user,
                    source=ChangeSource.ADMIN,
                )
            else:
                result = workflow.term_create(
                    document=document, actor=request.user, source=ChangeSource.ADMIN
                )
        except workflow.WorkflowError as exc:
            raise PermissionDenied(exc.message) from exc
        term.pk = result.term.pk
        term.slug = result.term.slug
        if result.outcome == "proposed":
            messages.info(
                request,
                "Your edit is stored as a pending change: readers keep seeing the live "
                "term until it is reviewed and approved.",
            )

    def delete_model(self, request, obj):
        workflow.term_delete(term=obj, actor=request.user, source=ChangeSource.ADMIN)

    def delete_queryset(self, request, queryset):
        # Through the workflow module too, so every deletion leaves an audit event.
        for term in queryset:
            workflow.term_delete(
                term=term, actor=request.user, source=ChangeSource.ADMIN
            )

    # Workflow buttons, history and the waiting list.

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/transition/<str:name>/",
                wrap(require_POST(self.transition_view)),
                name="terms_term_transition",
            ),
            path(
                "<int:pk>/versions/<int:version>/restore/",
                wrap(require_POST(self.restore_version_view)),
                name="terms_term_restore_version",
            ),
            path(
                "<int:pk>/pending/withdraw/",
                wrap(require_POST(self.withdraw_view)),
                name="terms_term_withdraw",
            ),
            path("waiting/", wrap(self.waiting_view), name="terms_term_waiting"),
            *super().get_urls(),
        ]

    def _back(self, term) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:terms_term_change", args=[term.pk]))

    def transition_view(self, request, pk, name):
        term = get_object_or_404(Term, pk=pk)
        replaced_by = None
        slug = request.POST.get("replaced_by", "").strip()
        if slug:
            replaced_by = Term.objects.filter(slug=slug).first()
            if replaced_by is None:
                messages.error(
                    request, f"No term with slug {slug!r} to name as replacement."
                )
                return self._back(term)
        try:
            workflow.term_transition(
                term=term,
                name=name,
                actor=request.user,
                comment=request.POST.get("comment", ""),
                replaced_by=replaced_by,
                source=ChangeSource.ADMIN,
            )
        except workflow.WorkflowError as exc:
            messages.error(request, _refusal(exc))
        else:
            label = workflow.TRANSITIONS[name].label
            messages.success(request, f"{label}: done for {term.name!r}.")
        return self._back(term)

    def restore_version_view(self, request, pk, version):
        term = get_object_or_404(Term, pk=pk)
        try:
            result = workflow.term_revert(
                term=term,
                version=version,
                actor=request.user,
                source=ChangeSource.ADMIN,
            )
        except workflow.WorkflowError as exc:
            messages.error(request, _refusal(exc))
        else:
            if result.outcome == "proposed":
                messages.info(
                    request, f"Version {version} is proposed as a pending change."
                )
            elif result.outcome == "unchanged":
                messages.info(
                    request, f"Version {version} has the same content as now."
                )
            else:
                messages.success(
                    request, f"Version {version} restored as a new version."
                )
        return self._back(term)

    def withdraw_view(self, request, pk):
        term = get_object_or_404(Term, pk=pk)
        try:
            workflow.pending_withdraw(
                term=term, actor=request.user, source=ChangeSource.ADMIN
            )
        except workflow.WorkflowError as exc:
            messages.error(request, _refusal(exc))
        else:
            messages.success(request, "The pending change was withdrawn.")
        return self._back(term)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        term = Term.objects.filter(pk=object_id).first()
        if term is not None:
            allowed = workflow.allowed_transitions(term, request.user)
            extra_context["transitions"] = [
                {
                    "name": name,
                    "label": transition.label,
                    "refusal": allowed[name],
                    "needs_comment": transition.needs_comment,
                    "url": reverse("admin:terms_term_transition", args=[term.pk, name]),
                }
                for name, transition in workflow.TRANSITIONS.items()
            ]
            pending = PendingChange.objects.filter(term=term).first()
            if pending is not None:
                live = document_from_term(
                    Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(
                        pk=term.pk
                    )
                ).to_data()
                extra_context["pending"] = pending
                extra_context["pending_diff"] = _diff_rows(live, pending.document)
                extra_context["withdraw_url"] = reverse(
                    "admin:terms_term_withdraw", args=[term.pk]
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        """Events and versions of a term, with a readable diff of any two."""
        term = get_object_or_404(Term, pk=object_id)
        if not self.has_view_or_change_permission(request, term):
            raise PermissionDenied
        versions = list(term.revisions.select_related("author").order_by("-version"))
        numbers = [v.version for v in versions]
        chosen_to = _int(request.GET.get("to"), term.version)
        chosen_from = _int(request.GET.get("from"), max(chosen_to - 1, 1))
        documents = {v.version: v.document for v in versions}
        diff = None
        if chosen_from in documents and chosen_to in documents:
            diff = _diff_rows(documents[chosen_from], documents[chosen_to])
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of {term.name}",
            "opts": self.model._meta,
            "term": term,
            "events": term.events.select_related("actor").order_by("-id"),
            "versions": versions,
            "numbers": numbers,
            "chosen_from": chosen_from,
            "chosen_to": chosen_to,
            "diff": diff,
            "can_restore": request.user.has_perm("terms.change_term"),
        }
        return TemplateResponse(request, "admin/terms/term/history.html", context)

    def waiting_view(self, request):
        """Terms and pending changes the current user may review or approve now."""
        candidates = (
            Term.objects.filter(
                Q(status__in=[Status.DRAFT, Status.REVIEWED])
                | Q(pk__in=PendingChange.objects.values("term_id"))
            )
            .select_related("pending")
            .order_by("updated_at")[:200]
        )
        rows = []
        for term in candidates:
            allowed = workflow.allowed_transitions(term, request.user)
            actions = [
                workflow.TRANSITIONS[name].label
                for name in ("review", "approve")
                if allowed[name] is None
            ]
            if actions:
                pending = PendingChange.objects.filter(term=term).first()
                rows.append({"term": term, "pending": pending, "actions": actions})
        context = {
            **self.admin_site.each_context(request),
            "title": "Waiting for me",
            "opts": self.model._meta,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/terms/term/waiting.html", context)

    # Bulk actions.

    def _bulk(self, request, queryset, name):
        done, refused = [], []
        for term in queryset:
            try:
                workflow.term_transition(
                    term=term, name=name, actor=request.user, source=ChangeSource.ADMIN
                )
            except workflow.WorkflowError as exc:
                refused.append(f"{term.name}: {_refusal(exc)}")
            else:
                done.append(term.name)
        label = workflow.TRANSITIONS[name].label
        if done:
            messages.success(request, f"{label}: {len(done)} term(s) done.")
        for line in refused:
            messages.error(request, f"{label} refused for {line}")

    @admin.action(description="Mark selected terms reviewed")
    def review_selected(self, request, queryset):
        self._bulk(request, queryset, "review")

    @admin.action(description="Approve selected terms")
    def approve_selected(self, request, queryset):
        self._bulk(request, queryset, "approve")

    @admin.action(description="Deprecate selected terms")
    def deprecate_selected(self, request, queryset):
        self._bulk(request, queryset, "deprecate")

    @admin.action(description="Restore selected terms to draft")
    def restore_selected(self, request, queryset):
        self._bulk(request, queryset, "restore")


def _int(raw, default: int) -> int:
    return int(raw) if raw is not None and str(raw).isdigit() else default


def _refusal(exc: workflow.WorkflowError) -> str:
    if exc.reasons and exc.kind == "conflict":
        return f"{exc.message} " + "; ".join(exc.reasons)
    return exc.message


def _render(value) -> str:
    if isinstance(value, list):
        return "\n".join(f"- {_render(item)}" for item in value)
    if isinstance(value, dict):
        return "\n".join(f"{key}: {_render(item)}" for key, item in value.items())
    return "" if value is None else str(value)


def _word_diff(before: str, after: str):
    """HTML of ``after`` with removed words struck through and added ones marked."""
    old, new = before.split(" "), after.split(" ")
    parts = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(format_html("{} ", " ".join(old[a1:a2])))
            continue
        if op in ("delete", "replace"):
            parts.append(format_html("<del>{}</del> ", " ".join(old[a1:a2])))
        if op in ("insert", "replace"):
            parts.append(format_html("<ins>{}</ins> ", " ".join(new[b1:b2])))
    return mark_safe("".join(parts))


def _diff_rows(before: dict, after: dict) -> list[dict]:
    rows = []
    for key in TERM_KEYS:
        if before.get(key) != after.get(key):
            old, new = _render(before.get(key)), _render(after.get(key))
            rows.append(
                {
                    "field": key,
                    "before": old,
                    "after": new,
                    "html": _word_diff(old, new),
                }
            )
    return rows


# --- the other models ----------------------------------------------------------------


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "position", "term_count")
    search_fields = ("slug", "title")
    ordering = ("position", "slug")

    @admin.display(description="terms")
    def term_count(self, role):
        return role.term_links.count()


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position", "term_count")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("position", "name")

    @admin.display(description="terms")
    def term_count(self, category):
        return category.term_links.count()


@admin.register(GovernanceTag)
class GovernanceTagAdmin(admin.ModelAdmin):
    list_display = ("name", "term_count")
    search_fields = ("name",)

    @admin.display(description="terms")
    def term_count(self, tag):
        return tag.term_links.count()


@admin.register(TermRevision)
class TermRevisionAdmin(admin.ModelAdmin):
    """Read-only: revisions are the audit record."""

    list_display = ("term", "version", "source", "author", "status_only", "created_at")
    list_filter = ("source", "status_only")
    search_fields = ("term__name",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
