from django.apps import AppConfig


class ComptoirsConfig(AppConfig):
    name = "pacte.comptoirs"
    verbose_name = "Comptoirs, experts et défis"

    def ready(self) -> None:
        from pacte.comptoirs.record import register

        # the State's record: expert requests and comptoir answers, per institution
        register()
