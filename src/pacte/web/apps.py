from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "pacte.web"
    verbose_name = "Registre public"

    def ready(self) -> None:
        from pacte.web.project_sections import PROJECT_SECTIONS, register_domain_sections

        if not PROJECT_SECTIONS.names():  # once, even if ready() runs again
            register_domain_sections(PROJECT_SECTIONS)
