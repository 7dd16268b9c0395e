"""Every read of the knowledge base that pages, the API and the benchmark share; each starts from
a merchant."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from aftersales.models import Merchant
from tickets.models import Article, ArticleCategory, ArticleStatus, ArticleVersion, Deflection
from tickets.segmentation import query_words, tsquery_text

SEARCH_LIMIT = 10
SUGGESTION_LIMIT = 5


def article_categories_of(merchant: Merchant) -> QuerySet[ArticleCategory]:
    return ArticleCategory.objects.filter(merchant=merchant)


def articles_of(merchant: Merchant) -> QuerySet[Article]:
    """Every article of the merchant, drafts included: for staff."""
    return Article.objects.filter(merchant=merchant).select_related("category").defer("search_vector")


def articles_published(merchant: Merchant, *, language: str | None = None) -> QuerySet[Article]:
    """What customers and the API may read."""
    articles = articles_of(merchant).filter(status=ArticleStatus.PUBLISHED)
    if language:
        articles = articles.filter(language=language)
    return articles


def article_of(merchant: Merchant, pk: int) -> Article | None:
    return articles_of(merchant).filter(pk=pk).first()


def article_published(merchant: Merchant, pk: int) -> Article | None:
    return articles_published(merchant).filter(pk=pk).first()


def article_versions(article: Article) -> QuerySet[ArticleVersion]:
    return ArticleVersion.objects.filter(article=article).select_related("edited_by").order_by("-number")


def search_query(text: str, *, as_you_type: bool = False, every: bool = False) -> SearchQuery | None:
    """The question as a full-text query, or None when no word of it can be searched.

    Segmented like the articles, and asked both of the English (stemmed) and of the 'simple'
    (Chinese, exact) index. ``every``: an article must hold every word; otherwise any word."""
    words = query_words(text)
    if not words:
        return None
    raw = tsquery_text(words, prefix_last=as_you_type, every=every)
    return SearchQuery(raw, search_type="raw", config="english") | SearchQuery(raw, search_type="raw", config="simple")


# The last resort of a search (no article holds every word, none has one in its title) ranks at
# most this many of the articles holding any word: a bound on the cost of a question made of
# common words, at the price of maybe missing a weak match in a very large knowledge base.
ANY_WORD_CANDIDATES = 2_000
# The same bound for the articles holding every word but not all in their title.
EVERY_WORD_CANDIDATES = 1_000


def article_search(
    *,
    merchant: Merchant,
    text: str,
    published_only: bool = True,
    language: str | None = None,
    category_id: int | None = None,
    as_you_type: bool = False,
    limit: int = SEARCH_LIMIT,
) -> list[Article]:
    """The best-matching articles first (each with ``rank``); an unsearchable question finds none.

    Ranking every article that holds the words of a question is what makes full-text search slow:
    in a help centre, words like 订单 or "order" are in most articles, and even every word of a
    two-word question (上门 维修) can be in thousands, each ranked by reading its whole text. So
    the search goes in steps, each only when the ones before found fewer than ``limit``: the
    articles with every word in their title (a short indexed column; the best answers, and the
    title weighs most in the rank anyway), then, bounded, those with every word anywhere, then
    those with any word in their title, then, bounded, those with any word anywhere. Within a
    step the rank (title weighs more than text) orders them."""
    every = search_query(text, as_you_type=as_you_type, every=True)
    if every is None:
        return []
    anyword = search_query(text, as_you_type=as_you_type)
    if anyword is None:  # the same words as ``every``: cannot happen
        return []
    articles = articles_published(merchant, language=language) if published_only else articles_of(merchant)
    if not published_only and language:
        articles = articles.filter(language=language)
    if category_id:
        articles = articles.filter(category_id=category_id)

    def ranked(matching: QuerySet[Article], query: SearchQuery, room: int, found: list[Article]) -> list[Article]:
        if found:
            matching = matching.exclude(pk__in=[article.pk for article in found])
        return list(
            matching.annotate(rank=SearchRank(F("search_vector"), query)).order_by("-rank", "-helpful_count", "-id")[
                :room
            ]
        )

    def bounded(matching: QuerySet[Article], bound: int) -> QuerySet[Article]:
        # Any ``bound`` of them, straight from the index: no order (the model's default ordering
        # would sort every match before the limit).
        return articles.filter(pk__in=matching.order_by().values("pk")[:bound])

    found = ranked(articles.filter(title_vector=every), every, limit, [])
    if len(found) < limit:
        candidates = bounded(articles.filter(search_vector=every), EVERY_WORD_CANDIDATES)
        found += ranked(candidates, every, limit - len(found), found)
    if len(found) < limit:
        found += ranked(articles.filter(title_vector=anyword), anyword, limit - len(found), found)
    if not found:
        found = ranked(bounded(articles.filter(search_vector=anyword), ANY_WORD_CANDIDATES), anyword, limit, found)
    return found


@dataclass(frozen=True)
class KnowledgeFigures:
    published: int
    drafts: int
    deflections_30_days: int
    helpful: int
    not_helpful: int


def knowledge_figures(merchant: Merchant) -> KnowledgeFigures:
    """The knowledge base's figures for its dashboard page: two queries."""
    counts = Article.objects.filter(merchant=merchant).aggregate(
        published=Count("pk", filter=Q(status=ArticleStatus.PUBLISHED)),
        drafts=Count("pk", filter=Q(status=ArticleStatus.DRAFT)),
        helpful=Coalesce(Sum("helpful_count"), 0),
        not_helpful=Coalesce(Sum("not_helpful_count"), 0),
    )
    since = timezone.now() - timedelta(days=30)
    deflections = Deflection.objects.filter(merchant=merchant, created_at__gte=since).count()
    return KnowledgeFigures(
        published=counts["published"],
        drafts=counts["drafts"],
        deflections_30_days=deflections,
        helpful=counts["helpful"],
        not_helpful=counts["not_helpful"],
    )
