"""Page-number pagination that refuses bad parameters instead of guessing."""

from functools import partial

from django.conf import settings
from django.core.paginator import Paginator
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination


def _positive_int(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdecimal() or int(raw) < 1:  # "" included: given, but empty
        raise ValidationError({name: [f"must be a positive whole number, not {raw!r}"]})
    return int(raw)


class PageNotFound(NotFound):
    """404 for a page past the last one; the details name ``page``."""


class _KnownCount(Paginator):
    """A paginator told how many items there are, instead of counting them."""

    def __init__(self, object_list, per_page, *, known: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = known  # ``count`` is a cached property


class GlossaryPagination(PageNumberPagination):
    """``page`` and ``page_size`` (at most ``GLOSSARY_MAX_PAGE_SIZE``)."""

    page_size_query_param = "page_size"

    def paginate_counted(self, queryset, request, view, count: int | None):
        """A page of ``queryset`` whose length is known (None: count it)."""
        if count is not None:
            self.django_paginator_class = partial(_KnownCount, known=count)
        return self.paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        size = _positive_int(request, self.page_size_query_param)
        cap = settings.GLOSSARY_MAX_PAGE_SIZE
        if size is not None and size > cap:
            raise ValidationError({"page_size": [f"must be at most {cap}, not {size}"]})
        return size or settings.GLOSSARY_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        """A page, or 404 naming ``page`` and the last page there is."""
        number = _positive_int(request, self.page_query_param)
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            size = self.get_page_size(request)
            last = max(1, -(-self.django_paginator_class(queryset, size).count // size))
            raise PageNotFound(
                {"page": [f"there is no page {number}; the last page is {last}"]}
            ) from None
