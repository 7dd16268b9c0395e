"""The knowledge base: articles in zh-Hans or English, grouped in categories, drafted, published
and versioned, searched by PostgreSQL full text, and shown to customers before they open a case.

The search column is written only by ``tickets.services.knowledge`` when it saves an article: the
Chinese text is segmented into words first (PostgreSQL's parsers do not split Chinese), so the
column cannot be a generated column of the raw text.
"""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel


class ArticleLanguage(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


A = ArticleStatus
ARTICLE_TRANSITIONS: dict[str, frozenset[str]] = {
    A.DRAFT: frozenset({A.PUBLISHED, A.ARCHIVED}),
    A.PUBLISHED: frozenset({A.DRAFT, A.ARCHIVED}),
    A.ARCHIVED: frozenset({A.DRAFT}),
}
del A


class ArticleCategory(MerchantOwnedModel):
    """A shelf of the help centre, named in both languages; shown by position."""

    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name_en"], name="articlecategory_unique_name_en"),
            models.UniqueConstraint(fields=["merchant", "name_zh_hans"], name="articlecategory_unique_name_zh"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the language of the page."""
        language = (get_language() or "").lower()
        return self.name_zh_hans if language.startswith("zh") else self.name_en


class Article(MerchantOwnedModel):
    category = models.ForeignKey(
        ArticleCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("category"),
    )
    language = models.CharField(_("language"), max_length=8, choices=ArticleLanguage.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    # The number of the latest ArticleVersion: every save of the text adds one.
    version = models.PositiveIntegerField(_("version"), default=1)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    search_vector = SearchVectorField(_("search index"), null=True, editable=False)
    # The title alone: a short column, so that a question none of whose articles holds every word
    # ranks the articles with some of its words in their titles without reading every long text.
    title_vector = SearchVectorField(_("title search index"), null=True, editable=False)
    # Counters, changed only with F() by the services.
    helpful_count = models.PositiveIntegerField(_("found it helpful"), default=0)
    not_helpful_count = models.PositiveIntegerField(_("did not find it helpful"), default=0)
    deflection_count = models.PositiveIntegerField(_("answered a question"), default=0)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ArticleStatus.values), name="article_status_valid"),
            models.CheckConstraint(condition=Q(language__in=ArticleLanguage.values), name="article_language_valid"),
            models.CheckConstraint(
                condition=Q(status=ArticleStatus.PUBLISHED, published_at__isnull=False)
                | ~Q(status=ArticleStatus.PUBLISHED),
                name="article_published_has_time",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="article_search"),
            GinIndex(fields=["title_vector"], name="article_title_search"),
            models.Index(fields=["merchant", "status", "category"], name="article_merchant_status"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    def can_transition_to(self, status: str) -> bool:
        return status in ARTICLE_TRANSITIONS[self.status]


class ArticleVersion(MerchantOwnedModel):
    """The text of an article as one save left it. Only ever added."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions", verbose_name=_("article"))
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=8, choices=ArticleLanguage.choices)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("edited by"),
    )

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="articleversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleFeedback(MerchantOwnedModel):
    """A reader's "was this helpful?": one per article and browser session."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("article"))
    helpful = models.BooleanField(_("helpful"))
    session_key = models.CharField(_("session"), max_length=64)

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "session_key"], name="articlefeedback_once_per_session")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {'+' if self.helpful else '-'}"


class Deflection(MerchantOwnedModel):
    """A question a customer did not have to ask: an article answered it before a case was opened."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="deflections", verbose_name=_("article")
    )
    query = models.CharField(_("question"), max_length=500, blank=True)
    session_key = models.CharField(_("session"), max_length=64)
    customer = models.ForeignKey(
        "aftersales.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        "aftersales.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("order")
    )

    class Meta:
        verbose_name = _("deflection")
        verbose_name_plural = _("deflections")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["article", "session_key"], name="deflection_once_per_session")]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="deflection_merchant_time")]

    def __str__(self) -> str:
        return f"{self.article_id} {self.query[:40]}"
