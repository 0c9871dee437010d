from django.urls import path

from pacte.evidence import step_views, views

app_name = "evidence"
urlpatterns = [
    path("evaluations/", views.evaluation_list, name="evaluations"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("evaluations/<int:pk>/publier/", views.evaluation_publish, name="evaluation_publish"),
    path("espace/evaluations/nouvelle/", views.evaluation_new, name="evaluation_new"),
    path("audits/", views.audit_list, name="audits"),
    path("audits/<int:pk>/", views.audit_detail, name="audit"),
    path("panels/<int:pk>/", views.panel_detail, name="panel"),
    path("panels/volontaire/", views.volunteer_view, name="volunteer"),
    path("experimentations/<slug:slug>/", views.experiment_detail, name="experiment"),
    path("fiches-algorithmes/<int:pk>/", views.sheet_detail, name="sheet"),
    path("fiches-algorithmes/<int:pk>/atrs.json", views.sheet_atrs, name="sheet_atrs"),
    # issue 14: the evidence steps as pages
    path("espace/preuves/", step_views.evidence_work, name="work"),
    path("espace/audits/nouveau/", step_views.audit_new, name="audit_new"),
    path("espace/fiches-algorithmes/nouvelle/", step_views.sheet_new, name="sheet_new"),
    path("fiches-algorithmes/", step_views.sheet_list, name="sheets"),
    path("fiches-algorithmes/<int:pk>/publier/", step_views.sheet_publish, name="sheet_publish"),
    path("espace/panels/nouveau/", step_views.panel_new, name="panel_new"),
    path("panels/<int:pk>/tirage/", step_views.panel_draw, name="panel_draw"),
    path("espace/experimentations/nouvelle/", step_views.experiment_new, name="experiment_new"),
    path(
        "experimentations/<slug:slug>/pre-enregistrer/",
        step_views.experiment_preregister,
        name="experiment_preregister",
    ),
    path(
        "experimentations/<slug:slug>/affecter/",
        step_views.experiment_assign,
        name="experiment_assign",
    ),
    path("avis/<slug:slug>/", views.feedback_view, name="feedback"),
    path("avis/commentaire/<int:pk>/<str:action>/", views.feedback_action, name="feedback_action"),
]
