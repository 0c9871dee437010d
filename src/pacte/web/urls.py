from django.urls import path

from pacte.accounts import views as account_views
from pacte.web import pact_editor, pact_moves, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("projets/", views.project_list, name="projects"),
    path("projets/<slug:slug>/", views.project_detail, name="project"),
    path(
        "projets/<slug:slug>/sections/<slug:name>/", views.project_section, name="project_section"
    ),
    path("projets/<slug:slug>/evenements/", views.project_events, name="project_events"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="organisation"),
    path("pactes/<str:reference>/v<int:number>/", views.version_detail, name="version"),
    path(
        "pactes/<str:reference>/v<int:number>/canonique.json",
        views.version_canonical,
        name="version_canonical",
    ),
    path(
        "pactes/<str:reference>/diff/<int:old>/<int:new>/", views.version_diff, name="version_diff"
    ),
    path("journal/", views.journal, name="journal"),
    path("sante", views.health, name="health"),
    path("langue/", views.choose_language, name="language"),
    path("connexion/", account_views.SignInView.as_view(), name="login"),
    path("deconnexion/", account_views.SignOutView.as_view(), name="logout"),
    path("espace/", views.dashboard, name="dashboard"),
    path("espace/organisation/", views.switch_organisation, name="switch_organisation"),
    path("espace/projets/nouveau/", views.project_create, name="project_create"),
    path("espace/projets/<slug:slug>/phase/", views.phase_close, name="phase_close"),
    path("espace/projets/<slug:slug>/pacte/", views.pact_create, name="pact_create"),
    path(
        "espace/pactes/<str:reference>/v<int:number>/modifier/",
        pact_editor.version_edit,
        name="version_edit",
    ),
    path(
        "espace/pactes/<str:reference>/v<int:number>/<str:action>/",
        pact_moves.version_action,
        name="version_action",
    ),
    path("espace/engagements/<int:pk>/preuve/", views.commitment_evidence, name="evidence"),
    path("espace/engagements/ligne/", pact_editor.pact_row, name="commitment_row"),
    path("espace/pactes/ligne/<slug:prefix>/", pact_editor.pact_row, name="pact_row"),
    path("espace/jetons/", views.api_tokens, name="tokens"),
]
