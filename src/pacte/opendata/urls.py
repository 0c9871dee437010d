from django.urls import path

from pacte.opendata import views

app_name = "opendata"
urlpatterns = [
    path("donnees-ouvertes/", views.dump_page, name="dump"),
    path(
        "donnees-ouvertes/<str:filename>",
        views.dump_file,
        name="dump_file",
    ),
    path("statistiques/", views.statistics_page, name="statistics"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("mentions-legales/", views.legal_notices, name="legal"),
    path("donnees-personnelles/", views.personal_data, name="personal_data"),
]
