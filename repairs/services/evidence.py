"""Evidence of a visit: the technician's photos (and short videos) before and after the work.

The files go through the hub's checked-upload path (type sniffed, size and pixels bounded,
metadata such as GPS stripped) as an internal note of the case, so the timeline shows them where
staff read everything else; a ``VisitPhoto`` row per file says which visit and which side of the
work it shows."""

from collections.abc import Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, override

from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import User
from repairs.locks import repair_order_lock, visit_lock
from repairs.models import PhotoPhase, Visit, VisitPhoto, VisitStatus
from repairs.roles import require_visit_worker
from tickets.attachments import PILLOW_CHECKED, inspect_upload
from tickets.services import ticket_note
from tickets.videos import VIDEO_TYPES

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile


def visit_photos_add(
    *, visit: Visit, actor: User, phase: str, files: Sequence["UploadedFile[bytes]"]
) -> list[VisitPhoto]:
    """Photos taken on site, while checked in: before the work or after it."""
    if phase not in PhotoPhase.values:
        raise InvalidInput(_("Say whether the photos are from before or after the work."), code="invalid_phase")
    if not files:
        raise InvalidInput(_("Add at least one photo."), code="photos_missing", extra={"field": "photos"})
    for upload in files:
        # The hub accepts PDFs on a case too; a visit's evidence is photos and short videos.
        content_type, _sha256 = inspect_upload(upload)
        if content_type not in PILLOW_CHECKED | VIDEO_TYPES:
            raise InvalidInput(
                _("%(name)s is not a photo.") % {"name": upload.name}, code="not_a_photo", extra={"field": "photos"}
            )
    with transaction.atomic():
        # The lock order of every visit step: the repair, then the visit.
        repair = repair_order_lock(visit.repair_id)
        visit = visit_lock(visit.pk)
        require_visit_worker(actor, visit)
        if visit.status != VisitStatus.ON_SITE:
            raise TransitionNotAllowed(_("Photos are taken while checked in."), code="not_on_site")
        with override(repair.ticket.merchant.default_language):
            body = ngettext(
                "%(phase)s: %(count)s photo of the visit of %(day)s.",
                "%(phase)s: %(count)s photos of the visit of %(day)s.",
                len(files),
            ) % {
                "phase": PhotoPhase(phase).label,
                "count": len(files),
                "day": visit.window_start.astimezone(ZoneInfo(repair.merchant.timezone)).date().isoformat(),
            }
        message = ticket_note(ticket=repair.ticket, actor=actor, body=body, files=files)
        return VisitPhoto.objects.bulk_create(
            VisitPhoto(merchant_id=visit.merchant_id, visit=visit, attachment=attachment, phase=phase)
            for attachment in message.attachments.order_by("pk")
        )
