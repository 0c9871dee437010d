from django.urls import path

from pacte.mediation import views

app_name = "mediation"
urlpatterns = [
    path("accompagnement/", views.assist, name="assist"),
    path("accompagnement/recus/<str:reference>/", views.receipt, name="receipt"),
    path("accompagnement/reprendre/", views.claim, name="claim"),
    path("accompagnement/comptoir/<str:kind>/", views.assist_post, name="assist_post"),
    path("accompagnement/retrait/", views.withdraw, name="withdraw"),
    path(
        "accompagnement/recus/<str:reference>/retrait/",
        views.withdraw_on_request,
        name="withdraw_on_request",
    ),
]
