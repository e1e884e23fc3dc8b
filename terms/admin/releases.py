"""Admin pages of releases: publish one (approvers), read them with what
changed since the one before, retire one (administrators)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from terms.models import ChangeSource, Release
from terms.reads import releases
from terms.workflow.releases import integrity, public_statuses, release_create


class ReleaseForm(forms.ModelForm):
    """Publishing asks for a name and notes; the rest is the gate's and the
    glossary's."""

    class Meta:
        model = Release
        fields = ["name", "notes"]

    def clean(self):
        """The integrity gate, before anything is published: every problem
        shown on the form, by term and field."""
        cleaned = super().clean()
        problems, _ = integrity(public_statuses())
        for finding in problems:
            self.add_error(None, f"{finding.term}: {finding.field}: {finding.message}")
        return cleaned


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    """Releases cannot be edited; an administrator may retire one."""

    form = ReleaseForm
    list_display = [
        "name",
        "sequence",
        "published_at",
        "published_by_name",
        "terms",
        "diff_link",
    ]
    actions = ["retire"]
    readonly_fields = [
        "sequence",
        "published_at",
        "published_by_name",
        "statuses",
        "counts",
        "warnings",
        "glossary_version",
        "retired",
        "changes",
    ]

    @admin.display(description="terms")
    def terms(self, release) -> int:
        return sum(release.counts.values())

    @admin.display(description="what changed")
    def diff_link(self, release):
        """A link to the page of what changed since the release before."""
        before = (
            Release.objects.filter(sequence__lt=release.sequence)
            .order_by("-sequence")
            .values_list("name", flat=True)
            .first()
        )
        if before is None:
            return "the first release"
        url = reverse("release-diff-page", args=[before, release.name])
        return format_html('<a href="{}">since {}</a>', url, before)

    @admin.display(description="changes since the release before")
    def changes(self, release):
        before = (
            Release.objects.filter(sequence__lt=release.sequence)
            .order_by("-sequence")
            .first()
        )
        if before is None:
            return "The first release."
        found = releases.diff(before.name, release.name)
        rows = [
            ("added", ", ".join(i["slug"] for i in found.added) or "none"),
            ("removed", ", ".join(i["slug"] for i in found.removed) or "none"),
            ("renamed", ", ".join(i["slug"] for i in found.renamed) or "none"),
            ("changed", ", ".join(i["slug"] for i in found.changed) or "none"),
        ]
        return format_html_join(
            "",
            "<p><strong>{}</strong> (since {}): {}</p>",
            ((label, before.name, text) for label, text in rows),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["name", "notes", *self.readonly_fields]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "notes"]
        return ["name", "notes", *self.readonly_fields]

    def has_add_permission(self, request):
        return request.user.has_perm("terms.publish_release")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_view_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied("A release cannot be changed.")
        # The form ran the gate; a write that landed since can still fail it.
        release = release_create(
            name=obj.name,
            notes=obj.notes,
            actor=request.user,
            source=ChangeSource.ADMIN,
        )
        obj.__dict__.update(release.__dict__)

    @admin.action(description="Retire the selected releases (administrators)")
    def retire(self, request, queryset):
        if not request.user.is_superuser:
            raise PermissionDenied("Only administrators retire releases.")
        count = queryset.update(retired=True)
        messages.success(request, f"Retired {count} release(s); they stay on record.")
