"""The admin: terms and their workflow, term requests and webhook subscriptions."""

from terms.admin import releases, requests, terms, webhooks  # noqa: F401  (registers)
