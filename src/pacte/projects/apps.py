from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "pacte.projects"
    verbose_name = "Projets"
