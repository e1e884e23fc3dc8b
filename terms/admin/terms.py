"""The admin: the editors' and reviewers' main tool.

Editing never writes rows directly. The change form (term fields plus inlines) is
turned into a term document, validated by ``terms.documents.document`` and handed to
``terms.workflow.steps``, which edits a draft in place or stores a pending change for a
reviewed or approved term. Status is not a form field: transitions are buttons
on the change page and bulk actions on the list, all through the workflow.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from terms.admin.forms import (
    DocumentCheckFormSet,
    TermForm,
    admin_fieldsets,
    form_document,
)
from terms.admin.imports import import_view
from terms.admin.inlines import (
    AliasInline,
    CategoryInline,
    CitationInline,
    CitationLinkFilter,
    ExampleInline,
    LabelInline,
    RelationshipInline,
    RoleInline,
    TagInline,
)
from terms.documents.diffs import diff_rows
from terms.documents.document import validate_term_data
from terms.documents.mapping import TERM_DOCUMENT_PREFETCH, document_from_term
from terms.models import (
    ChangeSource,
    Comment,
    PendingChange,
    Term,
)
from terms.reads.selectors import (
    citation_checks,
    known_roles,
    linked_slugs,
    visible_statuses,
)
from terms.serving.derived import similar_terms
from terms.serving.stamp import glossary_stamp
from terms.web.rendering import comment_threads
from terms.workflow import comments
from terms.workflow import steps as workflow


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    """Terms: edit through the workflow, act on them with buttons and bulk actions."""

    form = TermForm
    change_form_template = "admin/terms/term/change_form.html"
    change_list_template = "admin/terms/term/change_list.html"
    inlines = [
        AliasInline,
        LabelInline,
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
    list_filter = ("status", CitationLinkFilter, "categories", "roles", "tags")
    search_fields = ("name", "slug", "aliases__name")
    readonly_fields = ("slug", "status", "version", "replaced_by", "updated_at")
    # Derived from the document's declaration, so a new column shows up here.
    fieldsets = admin_fieldsets()
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
        stored = Term.objects.filter(pk=obj.pk).first() if obj.pk else None
        for formset in formsets:
            if isinstance(formset, DocumentCheckFormSet):
                formset.siblings = formsets
                formset.stored = stored
        return formsets, inline_instances

    def construct_change_message(self, request, form, formsets, add=False):
        # The formsets are never saved, so Django's per-row summary does not apply;
        # the term's own history holds the detail.
        return [{"added": {}}] if add else [{"changed": {"fields": ["term document"]}}]

    def save_model(self, request, obj, form, change):
        """Nothing here: ``save_related`` writes the whole document at once."""

    def save_related(self, request, form, formsets, change):
        term = form.instance
        data = form_document(term, formsets).to_data()
        document, problems = validate_term_data(data, known_roles=known_roles())
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
            path(
                "<int:pk>/relate/<slug:target>/",
                wrap(require_POST(self.relate_view)),
                name="terms_term_relate",
            ),
            path(
                "<int:pk>/comment/",
                wrap(require_POST(self.comment_view)),
                name="terms_term_comment",
            ),
            path(
                "<int:pk>/comment/<int:comment>/resolve/",
                wrap(require_POST(self.resolve_view)),
                name="terms_term_comment_resolve",
            ),
            path("waiting/", wrap(self.waiting_view), name="terms_term_waiting"),
            path(
                "import/",
                wrap(lambda request: import_view(self, request)),
                name="terms_term_import",
            ),
            *super().get_urls(),
        ]

    def _back(self, term) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:terms_term_change", args=[term.pk]))

    def transition_view(self, request, pk, name):
        term = get_object_or_404(Term, pk=pk)
        try:
            workflow.term_transition(
                term=term,
                name=name,
                actor=request.user,
                comment=request.POST.get("comment", ""),
                replaced_by=request.POST.get("replaced_by", ""),
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

    def relate_view(self, request, pk, target):
        """One click on a suggestion: add it to the term's related terms."""
        term = get_object_or_404(Term, pk=pk)
        other = get_object_or_404(Term, slug=target)
        try:
            result = workflow.term_relate(
                term=term, target=other, actor=request.user, source=ChangeSource.ADMIN
            )
        except workflow.WorkflowError as exc:
            messages.error(request, _refusal(exc))
        else:
            said = {
                "unchanged": "is already linked",
                "updated": "was added to the related terms",
                "proposed": "was added to the related terms in the pending change",
            }[result.outcome]
            messages.success(request, f"{other.name!r} {said}.")
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
            extra_context["suggested"] = _suggestions(request, term)
            extra_context["threads"] = comment_threads(
                comments.thread_of(term, request.user)
            )
            extra_context["post_url"] = reverse(
                "admin:terms_term_comment", args=[term.pk]
            )
            extra_context["resolve_base"] = reverse(
                "admin:terms_term_comment", args=[term.pk]
            )
            pending = PendingChange.objects.filter(term=term).first()
            if pending is not None:
                live = document_from_term(
                    Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH).get(
                        pk=term.pk
                    )
                ).to_data()
                extra_context["pending"] = pending
                extra_context["pending_diff"] = diff_rows(live, pending.document)
                extra_context["withdraw_url"] = reverse(
                    "admin:terms_term_withdraw", args=[term.pk]
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def comment_view(self, request, pk):
        """Post a comment (or a reply) from the term's admin page."""
        term = get_object_or_404(Term, pk=pk)
        try:
            comments.comment_from_form(
                term=term,
                actor=request.user,
                data=request.POST,
                source=ChangeSource.ADMIN,
            )
        except workflow.WorkflowError as exc:
            messages.error(request, _refusal(exc))
        else:
            messages.success(request, "Comment posted.")
        return redirect("admin:terms_term_change", pk)

    def resolve_view(self, request, pk, comment):
        """Resolve a comment thread from the term's admin page."""
        found = get_object_or_404(Comment, pk=comment, term_id=pk)
        try:
            comments.thread_resolve(comment=found, actor=request.user)
        except workflow.WorkflowError as exc:
            messages.error(request, _refusal(exc))
        return redirect("admin:terms_term_change", pk)

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
            diff = diff_rows(documents[chosen_from], documents[chosen_to])
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
            "citations": citation_checks(term),
        }
        return TemplateResponse(request, "admin/terms/term/history.html", context)

    def waiting_view(self, request):
        """Terms and pending changes the current user may review or approve now."""
        rows = workflow.waiting_for(request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": "Waiting for me",
            "opts": self.model._meta,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/terms/term/waiting.html", context)

    # Bulk actions.

    def _bulk(self, request, queryset, name, comment=""):
        done, refused = [], []
        for term in queryset:
            try:
                workflow.term_transition(
                    term=term,
                    name=name,
                    actor=request.user,
                    source=ChangeSource.ADMIN,
                    comment=comment,
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

    def _bulk_with_comment(self, request, queryset, name, action):
        """A step that needs a comment: a page asks for it, then it is taken
        for every selected term with that comment."""
        label = workflow.TRANSITIONS[name].label
        comment = request.POST.get("comment", "").strip()
        if "apply" in request.POST and comment:
            return self._bulk(request, queryset, name, comment)
        context = {
            **self.admin_site.each_context(request),
            "title": label,
            "label": label,
            "action": action,
            "terms": list(queryset),
            "opts": self.model._meta,
            "error": "Say what should change." if "apply" in request.POST else "",
        }
        return TemplateResponse(request, "admin/terms/term/bulk_comment.html", context)

    def get_actions(self, request):
        """One bulk action per workflow step (a page asks for the comment of a
        step that needs one)."""
        actions = super().get_actions(request)
        for transition in workflow.TRANSITIONS.values():
            name = f"{transition.name}_selected"

            def run(modeladmin, request, queryset, step=transition.name, action=name):
                if workflow.TRANSITIONS[step].needs_comment:
                    return modeladmin._bulk_with_comment(
                        request, queryset, step, action
                    )
                return modeladmin._bulk(request, queryset, step)

            description = f"{transition.label}: selected terms"
            actions[name] = (run, name, description)
        return actions


def _int(raw, default: int) -> int:
    return int(raw) if raw is not None and str(raw).isdecimal() else default


def _suggestions(request, term: Term) -> list[dict]:
    """Terms alike in content and not linked yet, each with its add button's URL."""
    statuses = visible_statuses(request.user)
    if term.status not in statuses:
        return []
    linked = linked_slugs(term, statuses)
    ranked, _ = similar_terms(statuses, glossary_stamp().token, term.slug, 12)
    slugs = [slug for slug, _ in ranked if slug not in linked][:5]
    names = dict(Term.objects.filter(slug__in=slugs).values_list("slug", "name"))
    return [
        {
            "name": names[slug],
            "url": reverse("admin:terms_term_relate", args=[term.pk, slug]),
        }
        for slug in slugs
        if slug in names
    ]


def _refusal(exc: workflow.WorkflowError) -> str:
    """The refusal as one sentence; gate refusals list every failing check."""
    return exc.message
