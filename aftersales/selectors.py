"""Reads that pages, the API and tasks share. Each starts from a merchant."""

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest

from aftersales.compiled import CompiledRead
from aftersales.config_cache import config_cached
from aftersales.models import ApiKey, Customer, ExportJob, Membership, Merchant, Order, OrderLine, Product, Store, User

SESSION_MERCHANT_KEY = "aftersales_merchant_id"


def memberships_of(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True, merchant__is_active=True)
        .select_related("merchant")
        .order_by("merchant__name")
    )


def _memberships_query(*, shape: None, user_id: int) -> QuerySet[Membership]:
    return memberships_of(User(pk=user_id))


# Read on every staff request: compiled once (building and compiling the queryset cost more CPU
# than PostgreSQL spends running it). A statement, not a cache: a revoked membership or a
# deactivated merchant is seen by the next request, in every process.
_MEMBERSHIPS = CompiledRead(_memberships_query, params={"user_id": int}, prepared=True)


def merchant_active_by_slug(slug: str) -> Merchant | None:
    """The active merchant a portal URL names; kept per process until a merchant changes."""
    return config_cached(
        f"slug:{slug}", lambda: Merchant.objects.filter(slug=slug, is_active=True).first(), merchant_id=None
    )


def membership_for_request(request: HttpRequest) -> Membership | None:
    """The membership the staff user works under: the one picked in the switcher, else the first.

    One query reads every membership of the user: the header's merchant switcher lists them, so
    ``request_memberships`` hands the same list to the page instead of reading it again.
    """
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = _MEMBERSHIPS.rows(shape=None, user_id=user.pk)
    request._staff_memberships = memberships  # type: ignore[attr-defined]
    chosen = request.session.get(SESSION_MERCHANT_KEY)
    if chosen is not None:
        for membership in memberships:
            if membership.merchant_id == chosen:
                return membership
    return memberships[0] if memberships else None


def request_memberships(request: HttpRequest) -> list[Membership]:
    """Every active membership of the request's user (the switcher's list), read once per request."""
    if not request.user.is_authenticated:
        return []
    memberships = getattr(request, "_staff_memberships", None)
    if memberships is None:
        memberships = _MEMBERSHIPS.rows(shape=None, user_id=request.user.pk)
        request._staff_memberships = memberships  # type: ignore[attr-defined]
    return memberships


def _api_key_query(*, shape: None, prefix: str) -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("merchant").filter(prefix=prefix).order_by("pk")[:1]


# Read on every API call: compiled once, like the memberships.
_API_KEY = CompiledRead(_api_key_query, params={"prefix": str})


def api_key_by_prefix(prefix: str) -> ApiKey | None:
    return _API_KEY.first(shape=None, prefix=prefix)


def stores_of(merchant: Merchant) -> QuerySet[Store]:
    return Store.objects.filter(merchant=merchant).order_by("name")


def staff_of(merchant: Merchant) -> QuerySet[Membership]:
    return Membership.objects.filter(merchant=merchant, is_active=True, user__is_active=True).select_related("user")


def _staff_by_name_query(*, shape: None, merchant_id: int) -> QuerySet[Membership]:
    return staff_of(Merchant(pk=merchant_id)).order_by("user__first_name", "user__username")


_STAFF_BY_NAME = CompiledRead(_staff_by_name_query, params={"merchant_id": int}, prepared=True)


def staff_by_name(merchant: Merchant) -> list[Membership]:
    """The merchant's active staff with their users, by first name then username: the assignee
    menus of the queue, read on every load of it (compiled once, like the memberships)."""
    return _STAFF_BY_NAME.rows(shape=None, merchant_id=merchant.pk)


def customers_of(merchant: Merchant) -> QuerySet[Customer]:
    return Customer.objects.filter(merchant=merchant)


def products_of(merchant: Merchant) -> QuerySet[Product]:
    return Product.objects.filter(merchant=merchant)


def orders_of(merchant: Merchant) -> QuerySet[Order]:
    return (
        Order.objects.filter(merchant=merchant)
        .select_related("store", "customer")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.select_related("product")))
    )


def order_of(merchant: Merchant, order_id: int) -> Order | None:
    """One order of the merchant with its customer and store, and no lines: for pages that read
    the lines themselves."""
    found = list(Order.objects.filter(merchant=merchant, pk=order_id).select_related("store", "customer")[:1])
    if not found:
        return None
    found[0].merchant = merchant
    return found[0]


def order_lines_of(order: Order) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(merchant_id=order.merchant_id, order=order).select_related("product")


def merchants_active() -> QuerySet[Merchant]:
    return Merchant.objects.filter(is_active=True)


def staff_user_of(merchant: Merchant, user_id: int) -> User | None:
    """An active staff member of the merchant, by user id; None for anyone else."""
    membership = staff_of(merchant).filter(user_id=user_id).first()
    return membership.user if membership else None


def export_jobs_of(membership: Membership) -> QuerySet[ExportJob]:
    """The exports the member asked for at this merchant, newest first: nobody sees another's."""
    return ExportJob.objects.filter(merchant_id=membership.merchant_id, requested_by_id=membership.user_id).order_by(
        "-created_at", "-pk"
    )


def export_job_of(membership: Membership, job_id: int) -> ExportJob | None:
    return export_jobs_of(membership).filter(pk=job_id).first()


def membership_active(*, merchant_id: int, user_id: int) -> Membership | None:
    """The member's active membership at an active merchant, with both: what a worker acts as."""
    return (
        Membership.objects.filter(merchant_id=merchant_id, user_id=user_id, is_active=True, merchant__is_active=True)
        .select_related("merchant", "user")
        .first()
    )
