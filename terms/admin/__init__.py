"""The admin: terms and their workflow, roles, categories and tags, term
requests, releases, webhook subscriptions and notifications."""

from terms.admin import (  # noqa: F401  (registers)
    notifications,
    releases,
    requests,
    terms,
    vocabulary,
    webhooks,
)
