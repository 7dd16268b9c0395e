from django.http import HttpResponse

from aftersales.portal import portal_merchant_required


@portal_merchant_required
def home(request, merchant_slug):
    return HttpResponse("portal")
