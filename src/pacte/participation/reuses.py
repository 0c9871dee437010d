"""The reuse registry (P3): anyone signed in declares a reuse of a dataset, of its API or of a
project's code (what, where, by whom, a link); moderated like comments."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action, Person
from pacte.accounts.services import Acting
from pacte.data.models import Dataset
from pacte.errors import Conflict, NotFound, ValidationFailed
from pacte.links import clean_web_link
from pacte.participation.comments import MAX_FLAG_REASON, MAX_TEXT, clean_text
from pacte.participation.events import reuse_event
from pacte.participation.lifecycles import REUSE
from pacte.participation.models import Flag, Reuse
from pacte.participation.tasks import fan_out_after_commit
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict


@dataclass(frozen=True)
class ReuseIn:
    kind: str
    title: str
    description: str
    reuser: str
    url: str
    place: str = ""
    dataset: str = ""  # slug, for a dataset or API reuse
    project: str = ""  # slug, for a reuse of the project's code


def _target(data: ReuseIn) -> tuple[Dataset | None, Project | None]:
    if data.kind not in Reuse.Kind.values:
        raise ValidationFailed(
            _("Type de réutilisation inconnu."), field_errors={"kind": [_("Choix invalide.")]}
        )
    if data.kind == Reuse.Kind.CODE:
        project = Project.objects.filter(slug=data.project).first() if data.project else None
        if project is None:
            raise NotFound(_("Projet inconnu : une réutilisation de code désigne un projet."))
        return None, project
    dataset = Dataset.objects.filter(slug=data.dataset).first() if data.dataset else None
    if dataset is None:
        raise NotFound(
            _("Jeu de données inconnu : une réutilisation de données ou d'API désigne un jeu.")
        )
    return dataset, None


def _short(value: str, field: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(
            _("Un champ obligatoire est vide."),
            field_errors={field: [_("Ce champ est obligatoire.")]},
        )
    if len(value) > limit:
        raise ValidationFailed(
            _("Le texte dépasse %(limit)s caractères.") % {"limit": limit},
            field_errors={field: [_("%(limit)s caractères au plus.") % {"limit": limit}]},
        )
    return value


@retry_on_conflict
@transaction.atomic
def declare_reuse(person: Person, data: ReuseIn) -> Reuse:
    dataset, project = _target(data)
    policy.require(person, Action.REUSE_DECLARE, dataset or project)
    reuse = Reuse.objects.create(
        kind=data.kind,
        dataset=dataset,
        project=project,
        title=_short(data.title, "title", 200),
        description=clean_text(data.description, "description", limit=MAX_TEXT),
        reuser=_short(data.reuser, "reuser", 200),
        place=_short(data.place, "place", 200, required=False),
        url=clean_web_link(_short(data.url, "url", 500), "url"),
        author=person.user,
    )
    reuse_event(reuse, "participation.reuse_declared", person)
    fan_out_after_commit()
    return reuse


def lock_reuse(reuse: Reuse) -> Reuse:
    return (
        Reuse.objects.select_for_update(of=("self",), no_key=True)
        .select_related("dataset", "project")
        .get(pk=reuse.pk)
    )


@retry_on_conflict
@transaction.atomic
def flag_reuse(person: Person, reuse: Reuse, reason: str) -> Flag:
    reuse = lock_reuse(reuse)
    policy.require(person, Action.COMMENT_FLAG, reuse)
    try:
        with transaction.atomic():
            return Flag.objects.create(
                reuse=reuse,
                user=person.user,
                reason=clean_text(reason, "reason", limit=MAX_FLAG_REASON),
            )
    except IntegrityError:
        raise Conflict(_("Vous avez déjà signalé cette réutilisation.")) from None


@retry_on_conflict
@transaction.atomic
def moderate_reuse(acting: Acting, reuse: Reuse, decision: str, reason: str) -> Reuse:
    if decision not in REUSE.moves:
        raise ValidationFailed(_("Décision de modération inconnue."))
    reuse = lock_reuse(reuse)
    move, reason = REUSE.check(acting, decision, reuse, reason)
    flags = reuse.flags.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    REUSE.enter(acting, move, reuse, reason, flags=flags)
    fan_out_after_commit()
    return reuse
