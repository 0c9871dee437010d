"""Account pages: django-allauth's views under French addresses (/connexion/, /inscription/,
/deconnexion/, /compte/…), our account page and the account's deletion."""

from __future__ import annotations

from allauth.account import urls as allauth_account_urls
from allauth.account.views import SignupView
from allauth.socialaccount import urls as allauth_social_urls
from allauth.urls import build_provider_urlpatterns
from django.urls import URLPattern, URLResolver, include, path

from pacte.accounts import views

# allauth's own addresses for these three are replaced by the French ones below
_REPLACED = {"account_login", "account_logout", "account_signup"}
_allauth_pages = [
    p for p in allauth_account_urls.urlpatterns if getattr(p, "name", None) not in _REPLACED
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("connexion/", views.SignInView.as_view(), name="account_login"),
    path("deconnexion/", views.SignOutView.as_view(), name="account_logout"),
    path("inscription/", SignupView.as_view(), name="account_signup"),
    path("compte/", views.account, name="account_overview"),
    path("compte/suppression/", views.delete_account, name="account_delete"),
    path("compte/relier/", views.link_identity, name="account_link_identity"),
    path("compte/", include(_allauth_pages)),
    path("compte/tiers/", include(allauth_social_urls)),
    path("compte/", include(build_provider_urlpatterns())),
]
