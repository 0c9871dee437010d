from django.urls import path

from pacte.participation import feeds, views

app_name = "participation"
urlpatterns = [
    path("consultations/<int:pk>/", views.consultation_page, name="consultation"),
    path("consultations/<int:pk>/commenter/", views.comment_post, name="comment_post"),
    path("consultations/<int:pk>/clore/", views.consultation_close, name="consultation_close"),
    path(
        "espace/pactes/<str:reference>/v<int:number>/consultation/",
        views.consultation_open,
        name="consultation_open",
    ),
    path("commentaires/<int:pk>/modifier/", views.comment_edit, name="comment_edit"),
    path("commentaires/<int:pk>/repondre/", views.comment_answer, name="comment_answer"),
    path("commentaires/<int:pk>/signaler/", views.comment_flag, name="comment_flag"),
    path("commentaires/<int:pk>/moderer/", views.comment_moderate, name="comment_moderate"),
    path("espace/moderation/", views.moderation_queue, name="moderation"),
    path("notifications/", views.notice_list, name="notices"),
    path("suivre/", views.follow_toggle, name="follow"),
    path("desabonnement/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("reutilisations/", views.reuse_list, name="reuses"),
    path("reutilisations/nouvelle/", views.reuse_new, name="reuse_new"),
    path("reutilisations/<int:pk>/signaler/", views.reuse_flag, name="reuse_flag"),
    path("reutilisations/<int:pk>/moderer/", views.reuse_moderate, name="reuse_moderate"),
    path("flux/registre.atom", feeds.RegistryFeed(), name="feed_registry"),
    path("flux/journal.atom", feeds.LogFeed(), name="feed_log"),
    path("flux/projets/<slug:slug>.atom", feeds.ProjectFeed(), name="feed_project"),
    path("flux/organisations/<slug:slug>.atom", feeds.InstitutionFeed(), name="feed_institution"),
]
