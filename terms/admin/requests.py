"""Admin pages of term requests: read them, merge duplicates, decline with a
reason, or turn one into a draft term (``terms.workflow.requests`` does the work)."""

from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from terms.models import RequestStatus, TermRequest
from terms.workflow import requests as term_requests


@admin.register(TermRequest)
class TermRequestAdmin(admin.ModelAdmin):
    """Requests, open ones first; each decision is a button or an action."""

    list_display = ("term", "urgency", "status", "voices", "draft_link", "created_at")
    list_filter = ("status", "urgency")
    search_fields = ("term", "context", "why", "contact")
    date_hierarchy = "created_at"
    fields = ("term", "context", "why", "urgency", "contact", "reason",
              "status", "status_page", "merged_into", "draft_link",
              "requested_by", "handled_by", "created_at", "updated_at")  # fmt: skip
    readonly_fields = fields[6:]
    actions = ["merge_into_oldest", "turn_into_drafts"]
    change_form_template = "admin/terms/termrequest/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("draft", "merged_into")
            .annotate(merged=Count("duplicates"))
        )

    def has_add_permission(self, request) -> bool:
        return False  # requests come from readers (/request/ and the API)

    @admin.display(description="readers", ordering="merged")
    def voices(self, obj: TermRequest) -> int:
        """This request and those merged into it."""
        return 1 + getattr(obj, "merged", 0)

    @admin.display(description="term")
    def draft_link(self, obj: TermRequest):
        """The term the request became, with its status."""
        if obj.draft is None:
            return "-"
        url = reverse("admin:terms_term_change", args=[obj.draft.pk])
        return format_html(
            '<a href="{}">{}</a> ({})', url, obj.draft.name, obj.draft.status
        )

    @admin.display(description="status page")
    def status_page(self, obj: TermRequest):
        """What the requester sees."""
        url = obj.get_absolute_url()
        return format_html('<a href="{}">{}</a>', url, url)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["request_open"] = obj is not None and obj.status == RequestStatus.OPEN
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def response_change(self, request, obj):
        """The decision buttons: turn into a draft, or decline with the reason."""
        try:
            if "_convert" in request.POST:
                term = term_requests.convert(obj, actor=request.user)
                url = reverse("admin:terms_term_change", args=[term.pk])
                self.message_user(
                    request,
                    format_html(
                        'The request is now the draft <a href="{}">{}</a>.',
                        url,
                        term.name,
                    ),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(request.path)
            if "_decline" in request.POST:
                term_requests.decline(obj, obj.reason, actor=request.user)
                self.message_user(request, "The request is declined.", messages.SUCCESS)
                return HttpResponseRedirect(request.path)
        except term_requests.RequestError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    @admin.action(description="Merge the selected requests into the oldest")
    def merge_into_oldest(self, request, queryset):
        """Duplicates close as merged; the oldest stays open for all of them."""
        chosen = list(queryset.order_by("created_at", "id"))
        if len(chosen) < 2:
            self.message_user(request, "Select two or more requests.", messages.ERROR)
            return
        try:
            merged = term_requests.merge(chosen[0], chosen[1:], actor=request.user)
        except term_requests.RequestError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(
            request,
            f"Merged {merged} request(s) into the one for {chosen[0].term!r}.",
            messages.SUCCESS,
        )

    @admin.action(description="Turn the selected requests into draft terms")
    def turn_into_drafts(self, request, queryset):
        """One draft per request (or a link to the term that has its words)."""
        done = []
        for item in queryset.order_by("created_at", "id"):
            try:
                done.append(term_requests.convert(item, actor=request.user).name)
            except term_requests.RequestError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        if done:
            self.message_user(request, f"Drafts: {', '.join(done)}.", messages.SUCCESS)
