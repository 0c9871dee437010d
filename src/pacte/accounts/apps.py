from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pacte.accounts"
    verbose_name = "Personnes et organisations"
