"""Sections that domains add to the public project page, in an explicit, typed registry.

A section provider is a callable ``(project, acting) -> section | None``; a section is a
mapping ``{"title": str, "template": str, "context": dict}`` (:class:`ProjectSection`), and
``None`` means "nothing to show for this project". The page renders the sections in the
order they were registered.

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


class ProjectSections:
    """The providers of the project page, in page order; names are unique."""

    def __init__(self) -> None:
        self._entries: list[RegisteredSection] = []

    def register(self, name: str, provider: SectionProvider) -> None:
        if name in self.names():
            raise ValueError(f"project page section {name!r} is already registered")
        self._entries.append(RegisteredSection(name, provider))

    def unregister(self, name: str) -> None:
        if name not in self.names():
            raise KeyError(name)
        self._entries = [e for e in self._entries if e.name != name]

    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self._entries)

    def render(self, project: Project, acting: Acting | None) -> list[Mapping[str, Any]]:
        """The sections to show for ``project`` to ``acting``, providers returning None left out."""
        sections: list[Mapping[str, Any]] = []
        for entry in self._entries:
            section = entry.provider(project, acting)
            if section:
                sections.append(section)
        return sections


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
    """The project page's sections, in page order: data access, log proofs, evidence, participation."""
    registry.register("data", data_section)
    registry.register("journal", journal_section)
    registry.register("evidence", evidence_section)
    registry.register("channels", channels_section)
    registry.register("participation", participation_section)
