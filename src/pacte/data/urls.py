from django.urls import path

from pacte.data import grant_views, views

app_name = "data"
urlpatterns = [
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/<slug:slug>/", views.dataset_detail, name="dataset"),
    path("regles-de-proportionnalite/", views.rules, name="rules"),
    path("donnees/acces/<str:reference>/", views.grant_detail, name="grant"),
    path("donnees/acces/<str:reference>/<str:action>/", views.grant_action, name="grant_action"),
    path("donnees/publications/<uuid:release_id>/", views.release_detail, name="release"),
    path("donnees/demandes/", views.request_list, name="requests"),
    path("donnees/demandes/nouvelle/<str:reference>/", views.request_new, name="request_new"),
    path("donnees/demandes/<str:reference>/", views.request_detail, name="request"),
    path(
        "donnees/demandes/<str:reference>/<str:action>/",
        views.request_action,
        name="request_action",
    ),
    # issue 14 part 2: granted data in the browser
    path("espace/acces/", grant_views.grant_list, name="grants_mine"),
    path("espace/acces/<str:reference>/", grant_views.grant_downloads, name="grant_downloads"),
    path("espace/acces/<str:reference>/extrait/", grant_views.grant_extract, name="grant_extract"),
    path(
        "espace/acces/<str:reference>/agregats/",
        grant_views.grant_aggregates,
        name="grant_aggregates",
    ),
    path("donnees/consentement/", views.consent_new, name="consent_new"),
    path("donnees/consentements/<uuid:receipt_id>/", views.consent_detail, name="consent"),
    path(
        "donnees/consentements/<uuid:receipt_id>/recu.json", views.consent_json, name="consent_json"
    ),
    path(
        "donnees/consentements/<uuid:receipt_id>/retrait/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
]
