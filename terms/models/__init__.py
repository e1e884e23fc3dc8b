"""The glossary's data model.

A term's content is spread over the term row and ordered child rows (aliases,
categories, roles, tags, examples, citations, relationships), so every lookup key
can be indexed. ``terms.documents.document`` is the one place that turns these rows
into the
term document of term-format.md and back.

History is planned in from the start: every content version of a term is kept as
a ``TermRevision`` (the whole document as JSON) and every change of content or
status is a ``TermEvent`` (who, when, from/to status, comment).
"""

from terms.models.choices import (
    NAME_MAX_CHARS,
    ExampleKind,
    PartOfSpeech,
    RelationKind,
    Status,
)
from terms.models.history import (
    Approval,
    ChangeSource,
    EventAction,
    GlossaryState,
    PendingChange,
    PendingStatus,
    TermEvent,
    TermRevision,
    TermSource,
)
from terms.models.linkcheck import LinkCheck
from terms.models.notifications import (
    Comment,
    GroupChannel,
    Notification,
    NotificationCursor,
    NotificationMode,
    NotificationSettings,
    Watch,
)
from terms.models.readmodel import TermRead, TermReadDependency
from terms.models.releases import RELEASE_NAME, Release, ReleaseEntry
from terms.models.requests import RequestStatus, TermRequest, Urgency
from terms.models.term import (
    Alias,
    Citation,
    Example,
    Label,
    LabelKind,
    Relationship,
    Term,
    TermCategory,
    TermRole,
    TermTag,
    WantedTarget,
)
from terms.models.usage import (
    QUERY_MAX_CHARS,
    SearchUse,
    TermUse,
    UsageKind,
    UsageSource,
)
from terms.models.vocabulary import Category, GovernanceTag, Role, SiteText
from terms.models.webhooks import EVENT_TYPES, WebhookDelivery, WebhookSubscription

__all__ = [
    "EVENT_TYPES",
    "NAME_MAX_CHARS",
    "QUERY_MAX_CHARS",
    "RELEASE_NAME",
    "Alias",
    "Approval",
    "Category",
    "ChangeSource",
    "Citation",
    "Comment",
    "EventAction",
    "Example",
    "ExampleKind",
    "GlossaryState",
    "GovernanceTag",
    "GroupChannel",
    "Label",
    "LabelKind",
    "LinkCheck",
    "Notification",
    "NotificationCursor",
    "NotificationMode",
    "NotificationSettings",
    "PartOfSpeech",
    "PendingChange",
    "PendingStatus",
    "RelationKind",
    "Relationship",
    "Release",
    "ReleaseEntry",
    "RequestStatus",
    "Role",
    "SearchUse",
    "SiteText",
    "Status",
    "Term",
    "TermCategory",
    "TermEvent",
    "TermRead",
    "TermReadDependency",
    "TermRequest",
    "TermRevision",
    "TermRole",
    "TermSource",
    "TermTag",
    "TermUse",
    "Urgency",
    "UsageKind",
    "UsageSource",
    "WantedTarget",
    "Watch",
    "WebhookDelivery",
    "WebhookSubscription",
]
