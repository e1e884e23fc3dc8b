"""Throttling of anonymous clients (``terms.serving.throttle`` keeps the count)."""

from rest_framework.throttling import BaseThrottle

from terms.serving import throttle


class AnonymousRateThrottle(BaseThrottle):
    """Anonymous rate from ``GLOSSARY_ANON_THROTTLE_RATE``; empty disables it.

    The rate is read at request time so it can be configured (and tested)
    without reloading the module. A request the front cache already counted is
    not counted again.
    """

    retry_after: int | None = None

    def allow_request(self, request, view):
        """Count the request (unless counted already); refuse it past the limit."""
        if request.user is not None and request.user.is_authenticated:
            return True
        counted = throttle.count_request(request.META)
        if counted is None:
            return True
        self.retry_after = counted.retry_after
        return counted.allowed

    def wait(self):
        """Seconds until the client's window ends."""
        return self.retry_after
