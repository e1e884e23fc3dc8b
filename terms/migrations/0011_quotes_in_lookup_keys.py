"""Lookup keys now read typographic quotes as plain ones (terms.documents.naming.QUOTES):
recompute the stored keys of names, aliases and relationship targets that
contain one. Keys are written by the application, so the rule is applied here
as the code states it today."""

from django.db import migrations
from django.db.models import Q

from terms.documents.naming import lookup_key

_MARKS = ("\u2018", "\u2019", "\u02bc", "\u201c", "\u201d")


def _containing(field: str) -> Q:
    query = Q()
    for mark in _MARKS:
        query |= Q(**{f"{field}__contains": mark})
    return query


def recompute(apps, schema_editor):
    Term = apps.get_model("terms", "Term")
    Alias = apps.get_model("terms", "Alias")
    Relationship = apps.get_model("terms", "Relationship")
    for alias in Alias.objects.filter(_containing("name")):
        alias.key = lookup_key(alias.name)
        alias.save(update_fields=["key"])
    touched = set(
        Alias.objects.filter(_containing("name")).values_list("term_id", flat=True)
    )
    for term in Term.objects.filter(Q(pk__in=touched) | _containing("name")):
        names = [term.name, *term.aliases.order_by("position").values_list("name", flat=True)]
        term.name_key = lookup_key(term.name)
        term.search_names = "\n".join(dict.fromkeys(lookup_key(n) for n in names))
        term.save(update_fields=["name_key", "search_names"])
    for relationship in Relationship.objects.filter(_containing("target_name")):
        relationship.target_key = lookup_key(relationship.target_name)
        relationship.save(update_fields=["target_key"])


class Migration(migrations.Migration):
    dependencies = [("terms", "0010_order_parts_by_term_id")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
