from django.urls import path

from pacte.evidence import views

app_name = "evidence"
urlpatterns = [
    path("evaluations/", views.evaluation_list, name="evaluations"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("evaluations/<int:pk>/publier/", views.evaluation_publish, name="evaluation_publish"),
    path("espace/evaluations/nouvelle/", views.evaluation_new, name="evaluation_new"),
    path("audits/<int:pk>/", views.audit_detail, name="audit"),
    path("panels/<int:pk>/", views.panel_detail, name="panel"),
    path("panels/volontaire/", views.volunteer_view, name="volunteer"),
    path("experimentations/<slug:slug>/", views.experiment_detail, name="experiment"),
    path("fiches-algorithmes/<int:pk>/", views.sheet_detail, name="sheet"),
    path("fiches-algorithmes/<int:pk>/atrs.json", views.sheet_atrs, name="sheet_atrs"),
    path("avis/<slug:slug>/", views.feedback_view, name="feedback"),
    path("avis/commentaire/<int:pk>/<str:action>/", views.feedback_action, name="feedback_action"),
]
