"""The releases as an Atom feed (``/releases/feed.atom``), for readers who
follow the glossary's editions in a feed reader."""

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed

from terms.reads import releases


class ReleaseFeed(Feed):
    """Every release not retired, newest first: its notes and its counts."""

    feed_type = Atom1Feed
    title = "Glossary releases"
    subtitle = "Numbered, frozen editions of the glossary, with their notes."
    link = "/api/v1/releases/"

    def items(self):
        return releases.listed()[:50]

    def item_title(self, release):
        return f"Release {release.name}"

    def item_description(self, release):
        total = sum(release.counts.values())
        notes = release.notes or "No notes."
        return f"{notes}\n\n{total} terms; {len(release.warnings)} warning(s)."

    def item_link(self, release):
        return f"/api/v1/releases/{release.name}/"

    def item_guid(self, release):
        return f"release-{release.sequence}"

    item_guid_is_permalink = False

    def item_pubdate(self, release):
        return release.published_at

    def item_author_name(self, release):
        return release.published_by_name or None
