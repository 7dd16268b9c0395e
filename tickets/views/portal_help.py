"""The portal's help centre: published articles, searched in the customer's words, before (and
instead of) a request. No order proof is needed to read; when the customer came from a verified
order's new-request form, what they found is tied to that order.

The new-request form asks ``help_suggest`` for the best articles while the customer types (a small
HTML fragment, debounced by ``static/js/help_suggest.js``); without JavaScript the same form links
to ``help_search``, a plain page.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.models import Order
from aftersales.portal import portal_customers, portal_merchant_required, portal_order_ids
from aftersales.selectors import orders_of
from tickets.forms.knowledge import HelpFeedbackForm, HelpSearchForm
from tickets.models import Article, ArticleLanguage
from tickets.selectors import article_categories_of, article_published, article_search, articles_published
from tickets.selectors.knowledge import SUGGESTION_LIMIT
from tickets.services import article_deflection_record, article_feedback_record

# Where a session keeps which articles it already rated, to show "thank you" instead of the buttons.
RATED_KEY = "aftersales_help_rated"
HOME_ARTICLES = 30


def _page_language() -> str:
    return ArticleLanguage.ZH_HANS if (get_language() or "").lower().startswith("zh") else ArticleLanguage.EN


def _session_key(request) -> str:
    if request.session.session_key is None:
        request.session.create()
    return request.session.session_key or ""


def _verified_order(request, value) -> Order | None:
    """The order the customer was opening a request for, if this session proved it."""
    try:
        order_id = int(value)
    except (TypeError, ValueError):
        return None
    if order_id not in portal_order_ids(request, request.merchant):
        return None
    return orders_of(request.merchant).filter(pk=order_id).first()


def _context(request, **extra) -> dict:
    merchant = request.merchant
    return {"merchant": merchant, "portal_verified": bool(portal_order_ids(request, merchant)), **extra}


def _article_or_404(request, article_id: int) -> Article:
    article = article_published(request.merchant, article_id)
    if article is None:
        raise Http404
    return article


@portal_merchant_required
@require_GET
def help_home(request, merchant_slug):
    """The shelves in the page's language, and the search box."""
    merchant = request.merchant
    language = _page_language()
    articles = list(articles_published(merchant, language=language).order_by("-helpful_count", "title")[:HOME_ARTICLES])
    categories = list(article_categories_of(merchant))
    shelves = [(category, [a for a in articles if a.category_id == category.pk]) for category in categories]
    shelves = [(category, shelf) for category, shelf in shelves if shelf]
    loose = [a for a in articles if a.category_id is None]
    return render(
        request,
        "portal/help/home.html",
        _context(request, form=HelpSearchForm(), shelves=shelves, loose=loose),
    )


@portal_merchant_required
@require_GET
def help_search(request, merchant_slug):
    form = HelpSearchForm(request.GET or None)
    results: list[Article] = []
    order = None
    if form.is_valid():
        results = article_search(merchant=request.merchant, text=form.cleaned_data["q"])
        order = _verified_order(request, form.cleaned_data.get("order"))
    return render(
        request,
        "portal/help/search.html",
        _context(
            request,
            form=form,
            results=results,
            searched=form.is_valid(),
            query=form.cleaned_data.get("q", "") if form.is_valid() else "",
            order=order,
        ),
    )


@never_cache
@portal_merchant_required
@require_GET
def help_suggest(request, merchant_slug):
    """The best few articles for what the customer has typed so far: an HTML fragment."""
    form = HelpSearchForm(request.GET or None)
    results: list[Article] = []
    query = ""
    order = None
    if form.is_valid():
        query = form.cleaned_data["q"]
        results = article_search(merchant=request.merchant, text=query, as_you_type=True, limit=SUGGESTION_LIMIT)
        order = _verified_order(request, form.cleaned_data.get("order"))
    return render(request, "portal/help/suggestions.html", _context(request, results=results, query=query, order=order))


@portal_merchant_required
@require_GET
def help_article(request, merchant_slug, article_id):
    article = _article_or_404(request, article_id)
    query = request.GET.get("q", "")[:500]
    order = _verified_order(request, request.GET.get("order"))
    rated = article.pk in request.session.get(RATED_KEY, [])
    return render(
        request,
        "portal/help/article.html",
        _context(request, article=article, query=query, order=order, rated=rated),
    )


@portal_merchant_required
@require_POST
def help_feedback(request, merchant_slug, article_id):
    article = _article_or_404(request, article_id)
    form = HelpFeedbackForm(request.POST)
    back = reverse("portal:help_article", args=[request.merchant.slug, article.pk])
    if not form.is_valid():
        messages.error(request, _("Tell us whether the article helped: yes or no."))
        return redirect(back)
    try:
        article_feedback_record(
            article=article, helpful=form.cleaned_data["helpful"] == "yes", session_key=_session_key(request)
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        request.session[RATED_KEY] = [*request.session.get(RATED_KEY, [])[-49:], article.pk]
        messages.success(request, _("Thank you for your feedback."))
    return redirect(back)


@portal_merchant_required
@require_POST
def help_answered(request, merchant_slug, article_id):
    """ "This answered my question": no request is opened, and the deflection is counted."""
    article = _article_or_404(request, article_id)
    # From the suggestions inside the new-request form, the button's formaction carries these in
    # its query string (that form's own fields come along and are ignored).
    order = _verified_order(request, request.POST.get("order") or request.GET.get("order"))
    query = request.POST.get("q") or request.GET.get("q", "")
    customer = portal_customers(request, request.merchant).filter(pk=order.customer_id).first() if order else None
    try:
        article_deflection_record(
            article=article,
            session_key=_session_key(request),
            query=query,
            customer=customer,
            order=order,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:help_article", merchant_slug=request.merchant.slug, article_id=article.pk)
    messages.success(request, _("We are glad it helped. No request was opened."))
    if order is not None:
        return redirect("portal:order", merchant_slug=request.merchant.slug, order_id=order.pk)
    return redirect(reverse("portal:help", args=[request.merchant.slug]) + "?" + urlencode({"answered": article.pk}))
