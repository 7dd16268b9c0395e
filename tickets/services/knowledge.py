"""Every write to the knowledge base: categories, articles and their versions, publishing, and
what readers tell us (feedback, deflections).

Every save of an article's text adds an ``ArticleVersion`` and rewrites the search column in the
same transaction, so the index never disagrees with the text it claims to hold.
"""

from django.contrib.postgres.search import SearchVector
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.expressions import CombinedExpression
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import Customer, Merchant, Order, User
from tickets.knowledge_roles import require_article_publisher, require_article_writer
from tickets.models import (
    Article,
    ArticleCategory,
    ArticleFeedback,
    ArticleLanguage,
    ArticleStatus,
    ArticleVersion,
    Deflection,
)
from tickets.segmentation import segment

MAX_TITLE_LENGTH = 200
MAX_ARTICLE_LENGTH = 50000

# Chinese is segmented into space-separated words and indexed as they are ('simple'); English is
# stemmed ('english'), so that "returning" finds "return".
SEARCH_CONFIGS = {ArticleLanguage.ZH_HANS: "simple", ArticleLanguage.EN: "english"}


def article_search_vector(*, language: str, title: str, body: str) -> CombinedExpression:
    """The search column's value: the title weighs more (A) than the text (B)."""
    config = SEARCH_CONFIGS[ArticleLanguage(language)]
    return SearchVector(Value(segment(title)), config=config, weight="A") + SearchVector(
        Value(segment(body)), config=config, weight="B"
    )


def _clean_text(*, title: str, body: str, language: str) -> tuple[str, str, str]:
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        raise InvalidInput(_("Give the article a title."), code="title_required", extra={"field": "title"})
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInput(
            _("The title is too long (at most %(limit)s characters).") % {"limit": MAX_TITLE_LENGTH},
            code="title_too_long",
            extra={"field": "title"},
        )
    if not body:
        raise InvalidInput(_("Write the article's text."), code="body_required", extra={"field": "body"})
    if len(body) > MAX_ARTICLE_LENGTH:
        raise InvalidInput(
            _("The text is too long (at most %(limit)s characters).") % {"limit": MAX_ARTICLE_LENGTH},
            code="body_too_long",
            extra={"field": "body"},
        )
    if language not in ArticleLanguage.values:
        raise InvalidInput(_("Choose the article's language."), code="language_invalid", extra={"field": "language"})
    return title, body, language


def _check_category(category: ArticleCategory | None, merchant_id: int) -> None:
    if category is not None and category.merchant_id != merchant_id:
        raise InvalidInput(_("Choose one of your categories."), code="category_invalid", extra={"field": "category"})


def article_title_vector(*, language: str, title: str) -> SearchVector:
    return SearchVector(Value(segment(title)), config=SEARCH_CONFIGS[ArticleLanguage(language)], weight="A")


def _reindex(article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(
        search_vector=article_search_vector(language=article.language, title=article.title, body=article.body),
        title_vector=article_title_vector(language=article.language, title=article.title),
    )


# --- categories ----------------------------------------------------------------------------------


def article_category_create(
    *, merchant: Merchant, actor: User, name_zh_hans: str, name_en: str, position: int = 0
) -> ArticleCategory:
    require_article_publisher(actor=actor, merchant_id=merchant.pk)
    name_zh_hans, name_en = (name_zh_hans or "").strip(), (name_en or "").strip()
    if not name_zh_hans or not name_en:
        raise InvalidInput(_("Name the category in both languages."), code="category_name_required")
    try:
        with transaction.atomic():
            return ArticleCategory.objects.create(
                merchant=merchant, name_zh_hans=name_zh_hans[:100], name_en=name_en[:100], position=max(position, 0)
            )
    except IntegrityError as exc:
        raise InvalidInput(_("There is already a category of that name."), code="category_exists") from exc


# --- articles ------------------------------------------------------------------------------------


def article_create(
    *,
    merchant: Merchant,
    actor: User,
    language: str,
    title: str,
    body: str,
    category: ArticleCategory | None = None,
) -> Article:
    """A draft, with its first version and its search index."""
    require_article_writer(actor=actor, merchant_id=merchant.pk)
    title, body, language = _clean_text(title=title, body=body, language=language)
    _check_category(category, merchant.pk)
    with transaction.atomic():
        article = Article.objects.create(
            merchant=merchant, category=category, language=language, title=title, body=body, version=1
        )
        ArticleVersion.objects.create(
            merchant=merchant, article=article, number=1, title=title, body=body, language=language, edited_by=actor
        )
        _reindex(article)
    return article


def article_update(
    *,
    article: Article,
    actor: User,
    title: str,
    body: str,
    language: str,
    category: ArticleCategory | None,
) -> Article:
    """Save a new text (a new version, reindexed); a save that changes nothing adds nothing."""
    require_article_writer(actor=actor, merchant_id=article.merchant_id)
    title, body, language = _clean_text(title=title, body=body, language=language)
    _check_category(category, article.merchant_id)
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        text_changed = (locked.title, locked.body, locked.language) != (title, body, language)
        if not text_changed and locked.category_id == (category.pk if category else None):
            return locked
        locked.category = category
        fields = ["category", "updated_at"]
        if text_changed:
            locked.title, locked.body, locked.language = title, body, language
            locked.version += 1
            fields += ["title", "body", "language", "version"]
            ArticleVersion.objects.create(
                merchant_id=locked.merchant_id,
                article=locked,
                number=locked.version,
                title=title,
                body=body,
                language=language,
                edited_by=actor,
            )
        locked.save(update_fields=fields)
        if text_changed:
            _reindex(locked)
    return locked


def article_change_status(*, article: Article, actor: User, status: str) -> Article:
    """Publish, take back to draft, or archive. Only a supervisor or merchant admin does."""
    require_article_publisher(actor=actor, merchant_id=article.merchant_id)
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if status not in ArticleStatus.values or not locked.can_transition_to(status):
            raise TransitionNotAllowed(
                _("An article that is %(current)s cannot become %(target)s.")
                % {
                    "current": locked.get_status_display(),
                    "target": ArticleStatus(status).label if status in ArticleStatus.values else status,
                },
                code="article_transition_not_allowed",
            )
        locked.status = status
        fields = ["status", "updated_at"]
        if status == ArticleStatus.PUBLISHED:
            locked.published_at = timezone.now()
            fields.append("published_at")
        locked.save(update_fields=fields)
    return locked


def article_publish(*, article: Article, actor: User) -> Article:
    return article_change_status(article=article, actor=actor, status=ArticleStatus.PUBLISHED)


# --- what readers tell us ------------------------------------------------------------------------


def _session_key_required(session_key: str) -> str:
    if not session_key:
        raise InvalidInput(_("Your browser did not keep our cookie; please allow cookies."), code="no_session")
    return session_key[:64]


def article_feedback_record(*, article: Article, helpful: bool, session_key: str) -> ArticleFeedback:
    """Count one reader's "helpful / not helpful" once per browser session; a repeat changes
    nothing (a second click, or the same answer sent twice)."""
    session_key = _session_key_required(session_key)
    if not article.is_published:
        raise TransitionNotAllowed(_("This article is not published."), code="article_not_published")
    with transaction.atomic():
        feedback, created = ArticleFeedback.objects.get_or_create(
            article=article, session_key=session_key, defaults={"merchant_id": article.merchant_id, "helpful": helpful}
        )
        if created:
            counter = "helpful_count" if helpful else "not_helpful_count"
            Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    return feedback


def article_deflection_record(
    *,
    article: Article,
    session_key: str,
    query: str = "",
    customer: Customer | None = None,
    order: Order | None = None,
) -> Deflection:
    """ "This answered my question": the customer leaves without opening a case. Counted once per
    article and browser session."""
    session_key = _session_key_required(session_key)
    if not article.is_published:
        raise TransitionNotAllowed(_("This article is not published."), code="article_not_published")
    if (customer is not None and customer.merchant_id != article.merchant_id) or (
        order is not None and order.merchant_id != article.merchant_id
    ):
        raise ValueError("the customer and order must be the article's merchant's")  # a caller's mistake
    with transaction.atomic():
        deflection, created = Deflection.objects.get_or_create(
            article=article,
            session_key=session_key,
            defaults={
                "merchant_id": article.merchant_id,
                "query": (query or "").strip()[:500],
                "customer": customer,
                "order": order,
            },
        )
        if created:
            Article.objects.filter(pk=article.pk).update(deflection_count=F("deflection_count") + 1)
    return deflection
