"""Who may do what with the knowledge base, and the checks its services make."""

from django.utils.translation import gettext as _

from aftersales.exceptions import PermissionRefused
from aftersales.models import Membership, User
from aftersales.services.staff import staff_membership_required

# Who drafts and edits articles: those who answer customers.
ARTICLE_WRITER_ROLES = (Membership.Role.AGENT, Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)
# Who puts an article in front of customers, or takes it away.
ARTICLE_PUBLISHER_ROLES = (Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)


def may_publish_articles(membership: Membership | None) -> bool:
    return membership is not None and membership.role in ARTICLE_PUBLISHER_ROLES


def require_article_writer(*, actor: User, merchant_id: int) -> Membership:
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role not in ARTICLE_WRITER_ROLES:
        raise PermissionRefused(_("Your role does not write knowledge-base articles."))
    return membership


def require_article_publisher(*, actor: User, merchant_id: int) -> Membership:
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role not in ARTICLE_PUBLISHER_ROLES:
        raise PermissionRefused(_("Only a supervisor or a merchant admin publishes articles."))
    return membership
