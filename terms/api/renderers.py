"""Renderers beside DRF's JSON: YAML, Markdown, zip."""

import json

from rest_framework import renderers

from terms.documents.document import dump_yaml
from terms.formats import registry


class TermYAMLRenderer(renderers.BaseRenderer):
    """The term document as YAML, exactly as ``export_terms`` writes it."""

    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        """Text as it is; anything else (an error body) as YAML."""
        text = data if isinstance(data, str) else dump_yaml(data)
        return text.encode("utf-8")


class TermMarkdownRenderer(renderers.BaseRenderer):
    """The term as the reference project's documentation page."""

    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        """Text as it is; anything else (an error body) as JSON."""
        if isinstance(data, str):
            return data.encode("utf-8")
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


class FileRenderer(renderers.BaseRenderer):
    """A file already written by its format (``terms.formats.registry``), as
    bytes; anything else (an error body) as JSON."""

    charset = "utf-8"
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        """Bytes as they are; anything else (an error body) as JSON."""
        if isinstance(data, bytes):
            return data
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


def file_renderer(name: str, *, glossary: bool = False) -> type[FileRenderer]:
    """The renderer of the registered format ``name``: its media type, or with
    ``glossary`` the media type of the whole glossary written (YAML: a zip)."""
    fmt = registry.get(name)
    archive = glossary and fmt.export_media_type != fmt.media_type
    return type(
        f"{name.title()}FileRenderer",
        (FileRenderer,),
        {
            "__doc__": fmt.label,
            "media_type": fmt.export_media_type if glossary else fmt.media_type,
            "format": fmt.name,
            # An archive is bytes, not text in some character set.
            "charset": None if archive else FileRenderer.charset,
        },
    )


#: One term as SKOS, for the term detail.
SKOS_RENDERERS = [file_renderer(name) for name in registry.SKOS]
#: The whole glossary in every registered format, for the export.
EXPORT_RENDERERS = [file_renderer(name, glossary=True) for name in registry.FORMATS]
