"""Saved views of the queue: a member names the filters they use, for themselves or for a team
they are on."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput, PermissionRefused
from aftersales.models import Membership
from tickets.models import SavedView, Team
from tickets.queue_filters import saved_view_fields


def saved_view_create(
    *, membership: Membership, name: str, filters: dict[str, Any], team: Team | None = None
) -> SavedView:
    """Save the queue's filters under a name. ``team``: shared with that team, which must be one of
    the merchant's that the member is on. A name the member already uses is refused."""
    name = (name or "").strip()[:60]
    if not name:
        raise InvalidInput(_("Name the view."), code="name_required", extra={"field": "name"})
    if team is not None and (
        team.merchant_id != membership.merchant_id or not team.members.filter(pk=membership.user_id).exists()
    ):
        raise PermissionRefused(_("A view is shared only with a team you are on."), code="not_on_team")
    kept = {key: str(value) for key, value in filters.items() if key in saved_view_fields() and value not in ("", None)}
    try:
        with transaction.atomic():
            return SavedView.objects.create(
                merchant_id=membership.merchant_id, owner=membership.user, name=name, filters=kept, team=team
            )
    except IntegrityError:
        raise InvalidInput(
            _("You already have a view called %(name)s.") % {"name": name}, code="name_taken", extra={"field": "name"}
        ) from None


def saved_view_delete(*, membership: Membership, view: SavedView) -> None:
    """Only its owner deletes a view (a team's members stop seeing it)."""
    if view.owner_id != membership.user_id or view.merchant_id != membership.merchant_id:
        raise PermissionRefused(_("Only the one who saved a view deletes it."), code="not_owner")
    view.delete()
