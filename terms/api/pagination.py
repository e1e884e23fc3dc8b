"""Page-number pagination that refuses bad parameters instead of guessing."""

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


def _positive_int(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError({name: [f"must be a positive whole number, not {raw!r}"]})
    return int(raw)


class GlossaryPagination(PageNumberPagination):
    """``page`` and ``page_size`` (at most ``GLOSSARY_MAX_PAGE_SIZE``)."""

    page_size_query_param = "page_size"

    def get_page_size(self, request):
        size = _positive_int(request, self.page_size_query_param)
        cap = settings.GLOSSARY_MAX_PAGE_SIZE
        if size is not None and size > cap:
            raise ValidationError({"page_size": [f"must be at most {cap}, not {size}"]})
        return size or settings.GLOSSARY_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        _positive_int(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)
