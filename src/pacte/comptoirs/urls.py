from django.urls import path

from pacte.comptoirs import views, views_challenges, views_experts, views_routing

app_name = "comptoirs"
urlpatterns = [
    path("comptoir/", views.post_list, name="posts"),
    path("comptoir/deposer/", views.post_new, name="post_new"),
    path("comptoir/deposer/<str:kind>/", views.post_form, name="post_form"),
    path("comptoir/routage/", views_routing.routes, name="routes"),
    path("comptoir/routage/gerer/", views_routing.routes_keep, name="routes_keep"),
    path("comptoir/routage/<int:pk>/modifier/", views_routing.route_edit, name="route_edit"),
    path("comptoir/routage/<int:pk>/retirer/", views_routing.route_remove, name="route_remove"),
    path("comptoir/<int:pk>/", views.post_detail, name="post"),
    path("comptoir/<int:pk>/<str:action>/", views.post_action, name="post_action"),
    path("experts/", views_experts.expert_list, name="experts"),
    path("experts/nouveau/", views_experts.expert_new, name="expert_new"),
    path("experts/<int:pk>/", views_experts.expert_detail, name="expert"),
    path("experts/<int:pk>/modifier/", views_experts.expert_edit, name="expert_edit"),
    path("experts/<int:pk>/retirer/", views_experts.expert_withdraw, name="expert_withdraw"),
    path("experts/demandes/<int:pk>/", views_experts.request_detail, name="expert_request"),
    path(
        "experts/demandes/<int:pk>/<str:action>/",
        views_experts.request_action,
        name="expert_request_action",
    ),
    path("defis/", views_challenges.challenge_list, name="challenges"),
    path("defis/nouveau/", views_challenges.challenge_new, name="challenge_new"),
    path("defis/<slug:slug>/", views_challenges.challenge_detail, name="challenge"),
    path("defis/<slug:slug>/candidater/", views_challenges.challenge_apply, name="challenge_apply"),
    path(
        "defis/<slug:slug>/selection/", views_challenges.challenge_select, name="challenge_select"
    ),
    path("defis/<slug:slug>/cloturer/", views_challenges.challenge_close, name="challenge_close"),
    path(
        "defis/<slug:slug>/candidatures/<int:pk>/pacte/",
        views_challenges.application_pact,
        name="application_pact",
    ),
]
