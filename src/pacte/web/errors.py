from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from pacte.errors import NotFound


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse(
            {"error": "not_found", "message": _("Ressource introuvable.")}, status=404
        )
    return render(
        request, "error.html", {"error": NotFound(_("Cette page n'existe pas."))}, status=404
    )
