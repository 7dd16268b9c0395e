"""Lost parcels and carrier claims: declaring the return's parcel lost, deciding its claim, and
the list of claims. Each action is one service call.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

# The dashboard's shared pieces (from the kernel): the staff check, the page frame, the keyset cursors.
from aftersales.pages import (
    cursor_decode,
    cursor_encode,
    cursor_instant,
    render_dashboard,
    staff_required,
)
from returns.forms.dashboard import (
    ClaimFilterForm,
    ClaimRejectForm,
    ClaimSettleForm,
    ClaimWithdrawForm,
    LostParcelForm,
)
from returns.models import (
    ReturnRequest,
)
from returns.selectors import (
    ClaimKey,
    carrier_claim_of_return,
    carrier_claims_page,
    may_work_returns,
)
from returns.services import (
    carrier_claim_reject,
    carrier_claim_settle,
    carrier_claim_withdraw,
    return_parcel_declare_lost,
)
from returns.views.dashboard import act_on_form, forbidden, return_or_404


@staff_required
@require_POST
def return_declare_lost(request, number):
    return_request = return_or_404(request, number)
    form = LostParcelForm(request.POST)
    return act_on_form(
        request,
        return_request,
        form,
        "lost_form",
        lambda: return_parcel_declare_lost(
            return_request=return_request, actor=request.user, note=form.cleaned_data["note"]
        ),
        _("Parcel declared lost: the return is being settled and the carrier claim is open."),
    )


def _claim_or_404(return_request: ReturnRequest, claim_id: int):
    claim = carrier_claim_of_return(return_request=return_request, claim_id=claim_id)
    if claim is None:
        raise Http404(_("No such claim."))
    return claim


def _claim_action(request, number, claim_id, form_class, form_name: str, service, success: str):
    return_request = return_or_404(request, number)
    claim = _claim_or_404(return_request, claim_id)
    form = form_class(request.POST)
    return act_on_form(
        request,
        return_request,
        form,
        form_name,
        lambda: service(claim=claim, actor=request.user, **form.cleaned_data),
        success,
    )


@staff_required
@require_POST
def carrier_claim_settle_view(request, number, claim_id):
    return _claim_action(
        request,
        number,
        claim_id,
        ClaimSettleForm,
        "claim_settle_form",
        carrier_claim_settle,
        _("Claim recorded as paid by the carrier."),
    )


@staff_required
@require_POST
def carrier_claim_reject_view(request, number, claim_id):
    return _claim_action(
        request,
        number,
        claim_id,
        ClaimRejectForm,
        "claim_reject_form",
        carrier_claim_reject,
        _("Claim recorded as rejected by the carrier."),
    )


@staff_required
@require_POST
def carrier_claim_withdraw_view(request, number, claim_id):
    return _claim_action(
        request,
        number,
        claim_id,
        ClaimWithdrawForm,
        "claim_withdraw_form",
        carrier_claim_withdraw,
        _("Claim withdrawn; the parcel is recorded as received."),
    )


def encode_claim_key(key: ClaimKey) -> str:
    return cursor_encode(["claims", key.rank, key.opened_at.isoformat(), key.id])


def decode_claim_key(value: str) -> ClaimKey | None:
    """A cursor from the URL, or None for anything that is not one (the first page is shown)."""
    match cursor_decode(value):
        case ["claims", int() as rank, str() as opened_at, int() as pk]:
            instant = cursor_instant(opened_at)
            return ClaimKey(rank=rank, opened_at=instant, id=pk) if instant is not None else None
    return None


@staff_required
@require_GET
def carrier_claim_list(request):
    """The merchant's claims on carriers for lost parcels: open ones first, with what was claimed
    and what came back."""
    membership = request.membership
    if not may_work_returns(membership):
        return forbidden(request)
    form = ClaimFilterForm(request.GET or None)
    state = form.state_filter()
    page = carrier_claims_page(membership=membership, state=state, after=decode_claim_key(request.GET.get("after", "")))
    context = {
        "form": form,
        "page": page,
        "is_filtered": bool(state),
        "is_later_page": "after" in request.GET,
        "next_cursor": encode_claim_key(page.next_key) if page.next_key else None,
    }
    return render_dashboard(request, "dashboard/returns/claims.html", context)
