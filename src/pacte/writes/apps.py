from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WritesConfig(AppConfig):
    name = "pacte.writes"
    verbose_name = _("Écritures fiables")
