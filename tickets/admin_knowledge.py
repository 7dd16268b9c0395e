"""The knowledge base in the back office. Categories are plain data and edited here; articles,
their versions, feedback and deflections are shown only: an article's text changes on the
dashboard, through the service that adds its version and rewrites its search index."""

from django.contrib import admin

from aftersales.admin import BigTableAdmin, ReadOnlyAdmin
from tickets.models import Article, ArticleCategory, ArticleFeedback, ArticleVersion, Deflection


@admin.register(ArticleCategory)
class ArticleCategoryAdmin(BigTableAdmin):
    list_display = ("name_zh_hans", "name_en", "merchant", "position")
    list_filter = ("merchant",)
    search_fields = ("name_zh_hans", "name_en")
    list_select_related = ("merchant",)


class ArticleVersionInline(admin.TabularInline):
    model = ArticleVersion
    extra = 0
    can_delete = False
    fields = ("number", "title", "language", "edited_by", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "merchant",
        "language",
        "status",
        "version",
        "helpful_count",
        "not_helpful_count",
        "deflection_count",
        "updated_at",
    )
    list_filter = ("status", "language", "merchant")
    search_fields = ("title",)
    list_select_related = ("merchant", "category")
    exclude = ("search_vector",)
    inlines = [ArticleVersionInline]


@admin.register(ArticleVersion)
class ArticleVersionAdmin(ReadOnlyAdmin):
    list_display = ("article", "number", "language", "edited_by", "created_at")
    list_select_related = ("article", "edited_by")
    raw_id_fields = ("article",)


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(ReadOnlyAdmin):
    list_display = ("article", "helpful", "created_at")
    list_filter = ("helpful",)
    list_select_related = ("article",)


@admin.register(Deflection)
class DeflectionAdmin(ReadOnlyAdmin):
    list_display = ("article", "query", "customer", "order", "created_at")
    list_select_related = ("article", "customer", "order")
    search_fields = ("query",)
