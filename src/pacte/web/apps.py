from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "pacte.web"
    verbose_name = _("Registre public")

    def ready(self) -> None:
        from pacte.web.project_sections import PROJECT_SECTIONS, register_domain_sections

        if not PROJECT_SECTIONS.names():  # once, even if ready() runs again
            register_domain_sections(PROJECT_SECTIONS)
