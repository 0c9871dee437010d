from django.contrib import admin

from pacte.projects.models import Phase, Project


class PhaseInline(admin.TabularInline[Phase, Project]):
    model = Phase
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ("name", "carrier", "territory")
    search_fields = ("name", "slug")
    inlines = [PhaseInline]
