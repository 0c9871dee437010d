from django.urls import path

from pacte.channels import views

app_name = "channels"
urlpatterns = [
    path("canaux/", views.channel_list, name="channels"),
    path("canaux/nouveau/", views.channel_new, name="channel_new"),
    path("canaux/<slug:slug>/", views.channel_detail, name="channel"),
    path("canaux/<slug:slug>/modifier/", views.channel_edit, name="channel_edit"),
    path("canaux/<slug:slug>/integrer/", views.channel_embed, name="embed"),
    path("canaux/<slug:slug>/fragment.html", views.channel_fragment, name="fragment"),
    path(
        "canaux/<slug:slug>/inscriptions/<int:pk>/inscrire/",
        views.listing_list,
        name="listing_list",
    ),
    path("services/<slug:slug>/couverture/", views.coverage_edit, name="coverage"),
    path("services/<slug:slug>/reprise/", views.takeover_confirm, name="takeover"),
]
