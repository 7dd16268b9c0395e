from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def queue(request):
    return HttpResponse("queue")


@login_required
def ticket_detail(request, number):
    return HttpResponse(number)
