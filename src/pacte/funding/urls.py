from django.urls import path

from pacte.funding import views

app_name = "funding"
urlpatterns = [
    path("financement/", views.programme_list, name="programmes"),
    path("financement/simulateur/", views.simulator, name="simulator"),
    path("financement/programmes/nouveau/", views.programme_new, name="programme_new"),
    path(
        "financement/programmes/<slug:slug>/contrats/nouveau/",
        views.contract_new,
        name="contract_new",
    ),
    path("financement/programmes/<slug:slug>/", views.programme_detail, name="programme"),
    path(
        "financement/programmes/<slug:slug>/modifier/", views.programme_edit, name="programme_edit"
    ),
    path("financement/grand-livre/", views.ledger_page, name="ledger"),
    path("financement/contrats/<str:reference>/", views.contract_detail, name="contract"),
    path(
        "financement/contrats/<str:reference>/fenetres/<int:number>/valider/",
        views.window_validate,
        name="window_validate",
    ),
    path(
        "financement/contrats/<str:reference>/fenetres/<int:number>/paiement/",
        views.payment_prepare,
        name="payment_prepare",
    ),
    path("financement/paiements/<str:reference>/", views.payment_detail, name="payment"),
    path(
        "financement/paiements/<str:reference>/<str:action>/",
        views.payment_action,
        name="payment_action",
    ),
]
