"""The dashboard's knowledge base: articles listed and searched, written (every save a version),
published by a supervisor; and the small search the ticket page uses to put an article's link in a
reply. Every read starts from the membership's merchant."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.pages import act_and_return, staff_required
from aftersales.pages import render_dashboard as _render
from tickets import services
from tickets.forms.knowledge import ArticleCategoryForm, ArticleFilterForm, ArticleForm
from tickets.knowledge_roles import ARTICLE_WRITER_ROLES, may_publish_articles
from tickets.models import ARTICLE_TRANSITIONS, Article, ArticleStatus
from tickets.selectors import article_of, article_search, article_versions, articles_of, knowledge_figures

LIST_SIZE = 50
SUGGEST_SIZE = 6


def _writer_or_forbidden(request):
    if request.membership.role not in ARTICLE_WRITER_ROLES:
        return _render(request, "dashboard/forbidden.html", {}, status=403)
    return None


def _article_or_404(request, article_id: int) -> Article:
    article = article_of(request.membership.merchant, article_id)
    if article is None:
        raise Http404
    return article


def _form_error(form, exc: ApplicationError) -> None:
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


@staff_required
@require_GET
def article_list(request):
    if (refused := _writer_or_forbidden(request)) is not None:
        return refused
    merchant = request.membership.merchant
    form = ArticleFilterForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if query:
        articles = article_search(merchant=merchant, text=query, published_only=False, limit=LIST_SIZE)
    else:
        articles = list(articles_of(merchant).order_by("-updated_at", "-id")[:LIST_SIZE])
    return _render(
        request,
        "dashboard/knowledge/list.html",
        {
            "form": form,
            "query": query,
            "articles": articles,
            "figures": knowledge_figures(merchant),
            "category_form": ArticleCategoryForm(),
            "may_publish": may_publish_articles(request.membership),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def article_new(request):
    if (refused := _writer_or_forbidden(request)) is not None:
        return refused
    merchant = request.membership.merchant
    form = ArticleForm(request.POST or None, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            article = services.article_create(
                merchant=merchant,
                actor=request.user,
                language=data["language"],
                title=data["title"],
                body=data["body"],
                category=data["category"],
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The draft is saved. A supervisor publishes it."))
            return redirect("dashboard:article", article_id=article.pk)
    status = 400 if form.errors else 200
    return _render(request, "dashboard/knowledge/edit.html", {"form": form, "article": None}, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def article_edit(request, article_id):
    if (refused := _writer_or_forbidden(request)) is not None:
        return refused
    merchant = request.membership.merchant
    article = _article_or_404(request, article_id)
    initial = {"title": article.title, "language": article.language, "category": article.category, "body": article.body}
    form = ArticleForm(request.POST or None, initial=initial, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.article_update(
                article=article,
                actor=request.user,
                title=data["title"],
                body=data["body"],
                language=data["language"],
                category=data["category"],
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The article is saved."))
            return redirect("dashboard:article", article_id=article.pk)
    portal_url = settings.SITE_URL + reverse("portal:help_article", args=[merchant.slug, article.pk])
    return _render(
        request,
        "dashboard/knowledge/edit.html",
        {
            "form": form,
            "article": article,
            "versions": list(article_versions(article)[:20]),
            "may_publish": may_publish_articles(request.membership),
            "portal_url": portal_url,
            "next_statuses": [s for s in ArticleStatus.values if s in ARTICLE_TRANSITIONS[article.status]],
        },
        status=400 if form.errors else 200,
    )


@staff_required
@require_POST
def article_status(request, article_id):
    article = _article_or_404(request, article_id)
    target = request.POST.get("status", "")
    labels = {
        ArticleStatus.PUBLISHED: _("The article is published in the help centre."),
        ArticleStatus.DRAFT: _("The article is back to draft; customers no longer see it."),
        ArticleStatus.ARCHIVED: _("The article is archived."),
    }
    if target not in labels:
        # Only a hand-made post gets here; the service's refusal would name no target ("… cannot become .").
        messages.error(request, _("Choose to publish the article, put it back to draft or archive it."))
        return redirect("dashboard:article", article.pk)
    return act_and_return(
        request,
        lambda: services.article_change_status(article=article, actor=request.user, status=target),
        labels.get(target, ""),
        reverse("dashboard:article", args=[article.pk]),
    )


@staff_required
@require_POST
def category_new(request):
    form = ArticleCategoryForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Name the category in both languages."))
        return redirect("dashboard:articles")
    data = form.cleaned_data
    return act_and_return(
        request,
        lambda: services.article_category_create(
            merchant=request.membership.merchant,
            actor=request.user,
            name_zh_hans=data["name_zh_hans"],
            name_en=data["name_en"],
            position=data["position"],
        ),
        _("The category is added."),
        reverse("dashboard:articles"),
    )


@staff_required
@require_GET
def article_suggest(request):
    """Published articles for the ticket page's "insert an article link": title and portal link."""
    merchant = request.membership.merchant
    query = request.GET.get("q", "")[:200]
    found = article_search(merchant=merchant, text=query, as_you_type=True, limit=SUGGEST_SIZE)
    return JsonResponse(
        {
            "articles": [
                {
                    "id": article.pk,
                    "title": article.title,
                    "language": article.language,
                    "url": settings.SITE_URL + reverse("portal:help_article", args=[merchant.slug, article.pk]),
                }
                for article in found
            ]
        }
    )
