"""What terms are filed under: roles, categories, governance tags; site texts."""

from django.db import models


class Role(models.Model):
    """An audience role (product, engineering, ...) with the text shown for it."""

    slug = models.SlugField(max_length=64)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    takeaway = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="role_slug_unique")
        ]

    def __str__(self) -> str:
        return self.title or self.slug


class Category(models.Model):
    """A topic terms belong to, with its "practice & apply" guidance."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    apply_guidance = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["name"], name="category_name_unique"),
            models.UniqueConstraint(fields=["slug"], name="category_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class GovernanceTag(models.Model):
    """A governance tag such as a NIST AI RMF characteristic ("transparency")."""

    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="tag_name_unique")]

    def __str__(self) -> str:
        return self.name


class SiteText(models.Model):
    """A site-wide sentence used by the term pages (``site.yml``)."""

    key = models.CharField(max_length=64)
    value = models.TextField()

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="sitetext_key_unique")
        ]

    def __str__(self) -> str:
        return self.key
