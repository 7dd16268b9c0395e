"""The knowledge base in the API, read only: published articles, listed (newest first, by cursor),
searched (best first) and read one by one. Every read starts from the request's merchant; an
article of another merchant, or a draft, is a 404."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from aftersales.api.pagination import CreatedCursorPagination
from aftersales.api.permissions import request_merchant
from aftersales.api.views import MerchantApiView, MerchantListApiView
from aftersales.exceptions import InvalidInput
from tickets.models import Article, ArticleCategory, ArticleLanguage
from tickets.selectors import article_published, article_search, articles_published

TAG = ["knowledge base"]
MAX_SEARCH_RESULTS = 50


class ArticleCategoryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArticleCategory
        fields = ["id", "name_zh_hans", "name_en", "position"]


class ArticleOutputSerializer(serializers.ModelSerializer):
    category = ArticleCategoryOutputSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Article
        fields = [
            "id",
            "language",
            "title",
            "category",
            "version",
            "published_at",
            "updated_at",
            "helpful_count",
            "not_helpful_count",
            "deflection_count",
        ]


class ArticleDetailOutputSerializer(ArticleOutputSerializer):
    class Meta(ArticleOutputSerializer.Meta):
        fields = [*ArticleOutputSerializer.Meta.fields, "body"]


class ArticleSearchOutputSerializer(ArticleOutputSerializer):
    rank = serializers.FloatField(read_only=True)

    class Meta(ArticleOutputSerializer.Meta):
        fields = [*ArticleOutputSerializer.Meta.fields, "rank"]


class ArticleSearchInputSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200, help_text=_("The question, in Chinese or English."))
    language = serializers.ChoiceField(choices=ArticleLanguage.choices, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_SEARCH_RESULTS, default=10)


class ArticleListApi(MerchantListApiView):
    """Published articles, newest first."""

    serializer_class = ArticleOutputSerializer
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        language = self.request.query_params.get("language") or None
        if language is not None and language not in ArticleLanguage.values:
            raise InvalidInput(_("Unknown language."), code="language_invalid", extra={"field": "language"})
        return articles_published(request_merchant(self.request), language=language)

    @extend_schema(
        tags=TAG,
        summary=_("List published articles"),
        parameters=[OpenApiParameter("language", str, enum=ArticleLanguage.values, required=False)],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ArticleSearchApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Search published articles, best match first"),
        parameters=[ArticleSearchInputSerializer],
        responses=ArticleSearchOutputSerializer(many=True),
    )
    def get(self, request):
        query = ArticleSearchInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = article_search(
            merchant=request_merchant(request),
            text=query.validated_data["q"],
            language=query.validated_data.get("language"),
            limit=query.validated_data["limit"],
        )
        return Response(ArticleSearchOutputSerializer(found, many=True).data)


class ArticleDetailApi(MerchantApiView):
    @extend_schema(tags=TAG, summary=_("Read a published article"), responses=ArticleDetailOutputSerializer)
    def get(self, request, article_id: int):
        article = article_published(request_merchant(request), article_id)
        if article is None:
            raise Http404
        return Response(ArticleDetailOutputSerializer(article).data)
