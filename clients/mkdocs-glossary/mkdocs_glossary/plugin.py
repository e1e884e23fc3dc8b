"""The MkDocs plugin: glossary terms linked in every page, and a glossary page.

Two sources of terms:

- ``api_url``: a running glossary server. Each page's HTML goes to its
  annotate endpoint (``format: html``, ``mark: once``); the server finds the
  terms in the page's prose and answers the page with the first occurrence of
  each term marked (a ``<dfn>`` holding a link titled with the short
  definition). The glossary page lists the server's export.
- ``export``: the server's export, for builds without the server: the JSON of
  ``GET /api/v1/export/`` or a folder of term files (``export_terms``). Terms
  are matched here on names and aliases (whole words, any case, an optional
  plural ``s``) in the prose of each page, and link to the glossary page.
"""

import html
import json
import re
import urllib.request
from pathlib import Path

import yaml
from mkdocs.config import config_options as options
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File

#: Elements whose content is never linked.
SKIPPED = {
    "a", "abbr", "button", "code", "dfn", "h1", "h2", "h3", "h4", "h5", "h6",
    "kbd", "pre", "samp", "script", "style", "svg", "textarea", "var",
}  # fmt: skip
_TOKEN = re.compile(
    r"<!--.*?-->|<(/?)([A-Za-z][\w:-]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.DOTALL
)


class GlossaryConfig(Config):
    """The plugin's options."""

    api_url = options.Optional(options.Type(str))
    export = options.Optional(options.Type(str))
    index_page = options.Type(str, default="glossary.md")
    status = options.ListOfItems(options.Type(str), default=["approved"])
    timeout = options.Type((int, float), default=30)


def _slug(name: str) -> str:
    """An anchor for a term on the glossary page."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "term"


class GlossaryPlugin(BasePlugin[GlossaryConfig]):
    """``plugins: - glossary: {api_url: ...}`` or ``{export: path}``."""

    def on_config(self, config):
        if bool(self.config.api_url) == bool(self.config.export):
            raise PluginError("glossary: set either api_url or export (one of them)")
        self.directory_urls = config.use_directory_urls
        self.terms = self._load_terms(config)
        self.pattern = self._pattern()
        return config

    # --- where the terms come from ---

    def _load_terms(self, config) -> list[dict]:
        if self.config.api_url:
            data = self._get_json("export/")
            return sorted(data.get("terms", []), key=lambda t: t["term"].lower())
        path = Path(self.config.export)
        if not path.is_absolute():
            path = Path(config.config_file_path).parent / path
        if path.is_dir():
            found = [
                yaml.safe_load(item.read_text("utf-8"))
                for item in sorted(path.glob("*.yml"))
                if item.name not in ("roles.yml", "categories.yml", "site.yml")
            ]
        elif path.is_file():
            found = json.loads(path.read_text("utf-8")).get("terms", [])
        else:
            raise PluginError(f"glossary: no export at {path}")
        terms = [t for t in found if isinstance(t, dict) and t.get("term")]
        return sorted(terms, key=lambda t: t["term"].lower())

    def _api(self, path: str) -> str:
        return self.config.api_url.rstrip("/") + "/" + path

    def _get_json(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self._api(path),
            data=data,
            headers={"Accept": "application/json", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except OSError as error:
            raise PluginError(f"glossary: {self._api(path)}: {error}") from error

    # --- linking terms in pages ---

    def _pattern(self):
        names = {}
        for term in self.terms:
            for name in [term["term"], *(term.get("aliases") or [])]:
                names.setdefault(name.lower(), term)
        self.by_name = names
        if not names:
            return None
        alternatives = sorted(names, key=len, reverse=True)
        body = "|".join(re.escape(name) for name in alternatives)
        return re.compile(rf"(?<![\w-])({body})(?:s|es)?(?![\w-])", re.IGNORECASE)

    def on_page_content(self, html_text, page, config, files):
        if page.file.src_uri == self.config.index_page:
            return html_text
        if self.config.api_url:
            body = {
                "text": html_text,
                "format": "html",
                "mark": "once",
                "status": list(self.config.status),
            }
            return self._get_json("annotate/", body).get("document", html_text)
        return self._link_locally(html_text, page)

    def _link_locally(self, html_text: str, page) -> str:
        if self.pattern is None:
            return html_text
        index_url = self._index_url(page)
        seen: set[str] = set()
        parts, position, depth = [], 0, 0
        for token in _TOKEN.finditer(html_text):
            text = html_text[position : token.start()]
            parts.append(text if depth else self._link_text(text, seen, index_url))
            parts.append(token.group(0))
            position = token.end()
            closing, name = token.group(1), (token.group(2) or "").lower()
            if name in SKIPPED and not token.group(0).endswith("/>"):
                depth = max(0, depth - 1) if closing else depth + 1
        tail = html_text[position:]
        parts.append(tail if depth else self._link_text(tail, seen, index_url))
        return "".join(parts)

    def _link_text(self, text: str, seen: set[str], index_url: str) -> str:
        def link(match):
            term = self.by_name[match.group(1).lower()]
            if term["term"] in seen:
                return match.group(0)
            seen.add(term["term"])
            title = html.escape(term.get("short_def") or term["term"])
            anchor = _slug(term["term"])
            return (
                f'<dfn class="glossary-term"><a href="{index_url}#{anchor}" '
                f'title="{title}">{match.group(0)}</a></dfn>'
            )

        return self.pattern.sub(link, text)

    def _index_url(self, page) -> str:
        """The glossary page's address, relative to ``page``."""
        stem = self.config.index_page.removesuffix(".md")
        target = f"{stem}/" if self.directory_urls else f"{stem}.html"
        return _relative(page.url, target)

    # --- the glossary page ---

    def on_files(self, files, config):
        lines = ["# Glossary", ""]
        for term in self.terms:
            anchor = _slug(term["term"])
            name = html.escape(term["term"])
            lines.append(f'<h2 id="{anchor}">{name}</h2>')
            lines.append("")
            lines.append(html.escape(term.get("short_def") or ""))
            lines.append("")
        content = "\n".join(lines)
        files.append(File.generated(config, self.config.index_page, content=content))
        return files


def _relative(from_url: str, to_url: str) -> str:
    """A relative link from page ``from_url`` to page ``to_url`` (both as MkDocs
    writes them: ``""``, ``guide/``, ``glossary/``)."""
    depth = from_url.count("/")
    return "../" * depth + to_url
