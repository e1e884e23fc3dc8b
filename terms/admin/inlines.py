"""The term admin's inlines: a term's ordered parts (aliases, labels,
categories, roles, tags, examples, citations, relationships), each edited as
rows of the change form and saved through the workflow with the term."""

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Exists, OuterRef

from terms.admin.forms import (
    DocumentCheckFormSet,
)
from terms.models import (
    Alias,
    Citation,
    Example,
    Label,
    LinkCheck,
    Relationship,
    TermCategory,
    TermRole,
    TermTag,
)


class OrderedInline(admin.TabularInline):
    """Rows of one ordered part of a term; the form order is the stored order."""

    extra = 1
    exclude = ("position",)


class AliasInline(OrderedInline):
    """Aliases; this inline also checks the whole document."""

    model = Alias
    fields = ("name",)
    formset = DocumentCheckFormSet
    verbose_name_plural = "aliases (at least one to be reviewed)"


class LabelInline(OrderedInline):
    """Names, aliases and short definitions in other languages."""

    model = Label
    fields = ("language", "kind", "text")
    extra = 0
    verbose_name_plural = "labels in other languages (one name per language)"


class CategoryInline(OrderedInline):
    """Categories, the primary one first."""

    model = TermCategory
    fields = ("category",)
    verbose_name_plural = "categories (the first is the primary one)"


class RoleInline(OrderedInline):
    """Roles the term matters to."""

    model = TermRole
    fields = ("role",)


class TagInline(OrderedInline):
    """NIST AI RMF tags."""

    model = TermTag
    fields = ("tag",)
    verbose_name_plural = "governance tags"


class ExampleInline(OrderedInline):
    """Do and don't examples."""

    model = Example
    fields = ("kind", "text")


class CitationInline(OrderedInline):
    """Sources, each with an http(s) URL and what its link last answered."""

    model = Citation
    fields = ("source", "url", "link_check")
    readonly_fields = ("link_check",)
    formfield_overrides = {
        models.URLField: {"assume_scheme": "https", "widget": forms.URLInput}
    }

    @admin.display(description="link (check_citations)")
    def link_check(self, citation: Citation) -> str:
        check = (
            LinkCheck.objects.filter(url=citation.url).first() if citation.pk else None
        )
        return f"{check.state}, {check.checked_at:%Y-%m-%d}" if check else "not checked"


class CitationLinkFilter(admin.SimpleListFilter):
    """Terms by what their citation links answered at the last check."""

    title = "citation links"
    parameter_name = "citation_links"

    def lookups(self, request, model_admin):
        return (
            ("broken", "broken"),
            ("unchecked", "not checked"),
            ("ok", "all working"),
        )

    def queryset(self, request, queryset):
        citations = Citation.objects.filter(term=OuterRef("pk"))
        broken = citations.filter(
            url__in=LinkCheck.objects.filter(ok=False).values("url")
        )
        unchecked = citations.exclude(url__in=LinkCheck.objects.values("url"))
        if self.value() == "broken":
            return queryset.filter(Exists(broken))
        if self.value() == "unchecked":
            return queryset.filter(Exists(unchecked))
        if self.value() == "ok":
            return queryset.exclude(Exists(broken)).exclude(Exists(unchecked))
        return queryset


class RelationshipInline(OrderedInline):
    """Broader, narrower and related terms, as written."""

    model = Relationship
    fk_name = "term"
    fields = ("kind", "target_name", "target")
    readonly_fields = ("target",)
    verbose_name_plural = "relationships (targets by name, alias or slug)"
