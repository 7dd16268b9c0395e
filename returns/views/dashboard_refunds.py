"""The refund ledger's corrections on the return's page: a supervisor voids a refund not yet paid.

Kept apart from ``returns.views.dashboard`` (the return's page and its other actions), whose
helpers it shares: the same lookup (another merchant's return is a 404), the same page for a form
that failed, and the same run-then-go-back for the service call.
"""

from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.pages import staff_required
from returns.forms.dashboard import VoidRefundForm
from returns.services import refund_void as refund_void_service
from returns.views.dashboard import act, refund_or_404, return_or_404, return_page


@staff_required
@require_POST
def refund_void(request, number, refund_id):
    return_request = return_or_404(request, number)
    refund = refund_or_404(return_request, refund_id)
    form = VoidRefundForm(request.POST, refund_id=refund.pk)
    if not form.is_valid():
        return return_page(request, return_request, status=400, void_form=form)
    return act(
        request,
        return_request,
        lambda: refund_void_service(refund=refund, actor=request.user, reason=form.cleaned_data["reason"]),
        _("Refund voided: its units and amount can be settled again."),
    )
