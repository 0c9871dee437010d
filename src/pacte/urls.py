from django.contrib import admin
from django.urls import include, path

from pacte.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("pacte.journal.urls")),
    path("", include("pacte.data.urls")),
    path("", include("pacte.evidence.urls")),
    path("", include("pacte.funding.urls")),
    path("", include("pacte.channels.urls")),
    path("", include("pacte.participation.urls")),
    path("", include("pacte.opendata.urls")),
    path("", include("pacte.mediation.urls")),
    path("", include("pacte.comptoirs.urls")),
    path("", include("pacte.web.urls")),
    path("", include("pacte.accounts.urls")),
]
handler404 = "pacte.web.errors.not_found"
handler400 = "pacte.request_faults.bad_request"
handler500 = "pacte.request_faults.server_error"
