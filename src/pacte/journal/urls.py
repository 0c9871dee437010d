from django.urls import path

from pacte.journal import views

app_name = "journal"
urlpatterns = [
    path("journal/verifiable/", views.explorer, name="explorer"),
    path("journal/entree/<int:index>/", views.entry, name="entry"),
]
