"""Sections that domains add to the public project page, in an explicit, typed registry.

A section provider is a callable ``(project, acting) -> section | None``; a section is a
mapping ``{"title": str, "template": str, "context": dict}`` (:class:`ProjectSection`), and
``None`` means "nothing to show for this project". The page renders the sections in the
order they were registered.

A section registered *lazy* (every domain's, since issue 15 item 3) is not rendered with the
page: the page shows its heading and a plain link to the section's own page (``/projets/<slug>/sections/<name>/``, a
real page for visitors without JavaScript and for the crawler), and htmx replaces the link by
the section's body when it scrolls into view (the same URL, answered as a fragment). The page
thus costs the same few queries whatever the domains add, and each section is paid only by
whoever reads it.

The registry is filled once, when Django starts (:meth:`pacte.web.apps.WebConfig.ready`,
with :func:`register_domain_sections`), and read on each request: no import by name at
request time. The web app sits above the domains, so it is the one that knows them; a
domain never imports :mod:`pacte.web`. A new domain adds its provider to
:func:`register_domain_sections`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from pacte.accounts.services import Acting
    from pacte.projects.models import Project

__all__ = [
    "PROJECT_SECTIONS",
    "ProjectSection",
    "ProjectSections",
    "SectionProvider",
    "register_domain_sections",
]


class ProjectSection(TypedDict):
    """What a provider returns: rendered as ``{% include template with ctx=context %}``."""

    title: str
    template: str
    context: dict[str, Any]


class SectionProvider(Protocol):
    """``provider(project, acting)``: ``acting`` is None for an anonymous visitor."""

    def __call__(self, project: Project, acting: Acting | None, /) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True)
class RegisteredSection:
    name: str
    provider: SectionProvider
    title: str | Promise = ""  # the heading shown before the section is loaded (lazy sections)
    lazy: bool = False


class ProjectSections:
    """The providers of the project page, in page order; names are unique."""

    def __init__(self) -> None:
        self._entries: list[RegisteredSection] = []

    def register(
        self,
        name: str,
        provider: SectionProvider,
        *,
        title: str | Promise = "",
        lazy: bool = False,
    ) -> None:
        """Add a section at the end of the page; a ``lazy`` one needs its ``title`` (the heading
        the page shows before the section's body is loaded from its own URL)."""
        if name in self.names():
            raise ValueError(f"project page section {name!r} is already registered")
        if lazy and not title:
            raise ValueError(f"lazy project page section {name!r} needs a title")
        self._entries.append(RegisteredSection(name, provider, title, lazy))

    def unregister(self, name: str) -> None:
        if name not in self.names():
            raise KeyError(name)
        self._entries = [e for e in self._entries if e.name != name]

    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self._entries)

    def lazy_names(self) -> tuple[str, ...]:
        """The sections loaded from their own URL, in page order."""
        return tuple(e.name for e in self._entries if e.lazy)

    def render(self, project: Project, acting: Acting | None) -> list[Mapping[str, Any]]:
        """The sections of the page for ``project`` to ``acting``, in order: an eager one is
        rendered (left out when its provider returns None); a lazy one is only announced,
        ``{"name", "title", "lazy": True}``, without calling its provider."""
        sections: list[Mapping[str, Any]] = []
        for entry in self._entries:
            if entry.lazy:
                sections.append({"name": entry.name, "title": entry.title, "lazy": True})
                continue
            section = entry.provider(project, acting)
            if section:
                sections.append({"name": entry.name, **section})
        return sections

    def render_one(
        self, name: str, project: Project, acting: Acting | None
    ) -> tuple[str, Mapping[str, Any] | None]:
        """The title and the rendered section ``name`` (None: nothing to show for this project);
        KeyError for a name no domain registered."""
        for entry in self._entries:
            if entry.name == name:
                section = entry.provider(project, acting)
                return (str(section["title"]) if section else str(entry.title or name)), section
        raise KeyError(name)


PROJECT_SECTIONS = ProjectSections()


# The domains' providers. Each imports its domain on first use: the evidence section pulls the
# statistics libraries, too heavy to load at every start-up (`pacte migrate`, `collectstatic`…).


def data_section(project: Project, acting: Acting | None, /) -> Mapping[str, Any] | None:
    from pacte.data.sections import project_section

    return project_section(project, acting)


def journal_section(project: Project, acting: Acting | None, /) -> Mapping[str, Any] | None:
    from pacte.journal.sections import project_section

    return project_section(project, acting)


def evidence_section(project: Project, acting: Acting | None, /) -> Mapping[str, Any] | None:
    from pacte.evidence.sections import project_section

    return project_section(project, acting)


def channels_section(project: Project, acting: Acting | None, /) -> Mapping[str, Any] | None:
    from pacte.channels.sections import project_section

    return project_section(project, acting)


def participation_section(project: Project, acting: Acting | None, /) -> Mapping[str, Any] | None:
    from pacte.participation.sections import project_section

    return project_section(project, acting)


def register_domain_sections(registry: ProjectSections) -> None:
    """The project page's sections, in page order, each loaded from its own URL: data access,
    log proofs, evidence, channels, participation."""
    registry.register("data", data_section, title=_("Accès aux données"), lazy=True)
    registry.register(
        "journal", journal_section, title=_("Preuves dans le journal vérifiable"), lazy=True
    )
    registry.register(
        "evidence",
        evidence_section,
        title=_("Preuves : impact, biais, transparence, panels"),
        lazy=True,
    )
    registry.register(
        "channels",
        channels_section,
        title=_("Diffusion par les canaux de l'État et reprise"),
        lazy=True,
    )
    registry.register(
        "participation", participation_section, title=_("Suivre et réutiliser"), lazy=True
    )
