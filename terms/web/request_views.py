"""The term request pages: the form, a request's status page, the backlog."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from terms.models import TermRequest
from terms.reads import selectors, usage
from terms.serving import throttle
from terms.workflow import requests as term_requests


class TermRequestForm(forms.ModelForm):
    """What a reader writes to ask for a term (the rules of
    ``terms.workflow.requests``)."""

    #: The spam trap: hidden from people, filled in by bots.
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    class Meta:
        model = TermRequest
        fields = ["term", "context", "why", "urgency", "contact"]
        widgets = {
            "context": forms.Textarea(attrs={"rows": 3}),
            "why": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"contact": "Contact (optional)"}

    def clean_term(self) -> str:
        """The rules of a term's name."""
        value = self.cleaned_data["term"].strip()
        problem = term_requests.term_problem(value)
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean_contact(self) -> str:
        """An email address when it has an ``@``; otherwise as written."""
        value = self.cleaned_data["contact"].strip()
        problem = term_requests.contact_problem(value)
        if problem:
            raise forms.ValidationError(problem)
        return value


def request_form(request):
    """``/request/``: ask for a term; on success, go to the request's page."""
    form = TermRequestForm(
        request.POST or None,
        initial={"term": request.GET.get("term", "")[:200]},
    )
    if request.method != "POST" or not form.is_valid():
        return render(request, "glossary/request_form.html", {"form": form})
    if form.cleaned_data.get(term_requests.TRAP_FIELD):
        # A bot: it sees the same thanks a person would, and nothing is stored.
        return render(request, "glossary/request_form.html", {"sent": True})
    counted = throttle.over_request_rate(
        request.user, request.META.get("REMOTE_ADDR", "")
    )
    if counted is not None:
        response = render(
            request,
            "glossary/request_form.html",
            {"form": form, "retry_after": counted.retry_after},
            status=429,
        )
        response["Retry-After"] = str(counted.retry_after)
        return response
    try:
        stored = term_requests.submit(
            form.cleaned_data,
            user=request.user,
            statuses=selectors.visible_statuses(request.user),
        )
    except term_requests.AlreadyDefined as exc:
        form.add_error(
            "term",
            format_html(
                '<a href="{}">{}</a> is already in the glossary.',
                exc.term.get_absolute_url(),
                exc.term.name,
            ),
        )
        return render(request, "glossary/request_form.html", {"form": form})
    return redirect(f"{stored.get_absolute_url()}?new=1", permanent=False)


def request_status(request, public_id):
    """A request's page: where it stands, for the requester to bookmark."""
    found = (
        TermRequest.objects.select_related("merged_into", "draft")
        .filter(public_id=public_id)
        .first()
    )
    if found is None:
        raise Http404("No such term request.")
    draft = found.draft
    readable = draft is not None and draft.status in selectors.visible_statuses(
        request.user
    )
    return render(
        request,
        "glossary/request_status.html",
        {"req": found, "new": "new" in request.GET, "draft_readable": readable},
    )


def _works_the_backlog(user) -> bool:
    return user.is_authenticated and user.has_perm("terms.view_termrequest")


def backlog_page(request):
    """Open requests, most asked and most urgent first, and wanted terms; for
    editors, what readers searched for and did not find."""
    statuses = selectors.visible_statuses(request.user)
    figures = term_requests.backlog(statuses)
    if _works_the_backlog(request.user):
        figures["missing"] = usage.searched_but_missing(statuses)
        figures["missing_days"] = usage.DEFAULT_DAYS
    return render(request, "glossary/backlog.html", figures)


@require_POST
def request_searched(request):
    """One click on the backlog: a request for words readers searched in vain."""
    if not _works_the_backlog(request.user):
        raise PermissionDenied("Requesting from the backlog is for editors.")
    words = request.POST.get("term", "").strip()
    problem = term_requests.term_problem(words)
    if problem:
        messages.error(request, f"{words!r} cannot name a term: {problem}")
        return redirect("backlog")
    asked = request.POST.get("count", "")
    context = (
        f"Searched {asked} times in the last {usage.DEFAULT_DAYS} days and not found."
        if asked.isdecimal()
        else "Searched and not found."
    )
    data = {"term": words, "context": context}
    try:
        created = term_requests.submit(
            data, user=request.user, statuses=selectors.visible_statuses(request.user)
        )
    except term_requests.AlreadyDefined as exc:
        messages.info(request, str(exc))
        return redirect("backlog")
    messages.success(request, f"Requested {created.term!r}.")
    return redirect("backlog")
