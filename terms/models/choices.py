"""The fixed vocabularies of the model: statuses, parts of speech, link kinds."""

from django.db import models
from django.db.models import Q

#: The longest name a term may have (a column width, and a rule of the document).
NAME_MAX_CHARS = 200


class Status(models.TextChoices):
    """Editorial states of a term (term-format.md)."""

    DRAFT = "draft", "Draft"
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"
    DEPRECATED = "deprecated", "Deprecated"


class PartOfSpeech(models.TextChoices):
    """What kind of word or phrase a term is."""

    NOUN = "noun", "Noun"
    NOUN_PHRASE = "noun_phrase", "Noun phrase"
    VERB = "verb", "Verb"
    ADJECTIVE = "adjective", "Adjective"
    PROCESS = "process", "Process"
    CONCEPT = "concept", "Concept"


class RelationKind(models.TextChoices):
    """How a term relates to the term it names."""

    BROADER = "broader", "Broader"
    NARROWER = "narrower", "Narrower"
    RELATED = "related", "Related"


class ExampleKind(models.TextChoices):
    """Whether an example shows good or bad practice."""

    DO = "do", "Do"
    DONT = "dont", "Don't"


def choices_check(field: str, choices: type[models.TextChoices], name: str):
    """A check that ``field`` holds one of ``choices``."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}), name=name
    )
