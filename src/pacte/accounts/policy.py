"""Who may do what: the one place that answers "may this principal do this action on this object".

Every use case asks here (``require(principal, Action.X, obj)``) before it changes anything, and
the pages ask here (``may(...)``) before they show a button. A principal is either a person acting
for one organisation (:class:`~pacte.accounts.services.Acting`) or the platform itself
(:data:`SYSTEM`: the scheduler, the compliance engine, the command line). There is no ``None``:
passing ``None`` is a programming error, refused loudly, and the platform may only do the actions
whose rule says so (``system=True``).

The objects are read through the few attributes each rule needs (``carrier_id``, ``institution_id``,
``publisher_id``…), so this module imports no other domain; the permission-matrix tests
(tests/accounts/test_policy.py and the domain tests) run against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _

from pacte.accounts.models import Organisation, Role
from pacte.accounts.selectors import is_member
from pacte.accounts.services import Acting
from pacte.errors import PermissionDenied
from pacte.journal.services import SYSTEM as SYSTEM_ACTOR
from pacte.journal.services import Actor


@dataclass(frozen=True)
class PlatformPrincipal:
    """The platform acting on its own (scheduled job, compliance engine, command line)."""

    name: str = "system"


SYSTEM = PlatformPrincipal()


@dataclass(frozen=True)
class Person:
    """A signed-in person acting in their own name, with or without an organisation (a citizen who
    comments, follows, flags, declares a reuse). Only the rules that say so (``Rule.person``) accept
    a person; every other action is done for an organisation (:class:`Acting`)."""

    user: Any  # pacte.accounts.models.User


Principal = Acting | Person | PlatformPrincipal


class Action(StrEnum):
    # projects
    PROJECT_CREATE = "project.create"  # obj: the acting carrier Organisation
    PROJECT_EDIT = "project.edit"  # obj: Project
    # pacts
    PACT_WRITE = "pact.write"  # draft, edit, submit, withdraw, new version; obj: Pact or Project
    PACT_REVIEW = "pact.review"  # request changes, approve; obj: Pact
    PACT_SANCTION = "pact.sanction"  # breach, cure, suspend, reinstate, break, complete; obj: Pact
    PACT_SIGN = "pact.sign"  # obj: Pact (see signing_side)
    COMMITMENT_EVIDENCE = "commitment.evidence"  # obj: Commitment (owner + version.pact)
    # data
    DATASET_PUBLISH = "dataset.publish"  # obj: the publisher Organisation
    DATA_REQUEST_WRITE = (
        "data_request.write"  # create, edit, submit, withdraw; obj: DataRequest or Project
    )
    DATA_REQUEST_REVIEW = (
        "data_request.review"  # request changes, refuse, approve; obj: DataRequest
    )
    GRANT_REVIEW = "grant.review"  # suspend, revoke, reactivate, renew; obj: Grant
    GRANT_ROTATE_TOKEN = "grant.rotate_token"  # obj: Grant
    # issue 14 part 2 (evpages): use a grant from the browser (download, aggregates); obj: Grant
    GRANT_USE = "grant.use"
    # evidence
    PROJECT_CARRIER_WORK = (
        "project.carrier_work"  # questions, feedback replies, algorithm sheets; obj: Project
    )
    PROJECT_PARTNER_WORK = "project.partner_work"  # panel calls, feedback moderation; obj: Project
    EXPERIMENT_DESIGN = "experiment.design"  # obj: Project (carrier member or evaluator)
    EXPERIMENT_RUN = "experiment.run"  # pre-register, assign; obj: Experiment
    PANEL_DRAW = "panel.draw"  # obj: PanelCall (the organisation that opened it)
    PROJECT_EVALUATE = "project.evaluate"  # evaluations, bias audits; obj: Project
    EVALUATION_OWN = "evaluation.own"  # publish, delete one's evaluation; obj: Evaluation
    # funding (issue 11)
    FUNDING_PROGRAMME = (
        "funding.programme"  # open, edit a programme; obj: Programme or the institution
    )
    FUNDING_CONTRACT = "funding.contract"  # attach an outcome contract; obj: Programme
    FUNDING_WINDOW_VALIDATE = (
        "funding.window"  # validate a window with a published evaluation; obj: contract
    )
    PAYMENT_PREPARE = (
        "payment.prepare"  # prepare, mark paid, cancel; obj: OutcomeContract or PaymentOrder
    )
    PAYMENT_APPROVE = "payment.approve"  # approve (never one's own order); obj: PaymentOrder
    PAYMENT_SANCTION = (
        "payment.sanction"  # withhold, release (follows the pact's sanctions); platform only
    )
    # channels and takeover (issue 12, parts 1 and 5)
    CHANNEL_MANAGE = "channel.manage"  # declare, edit a channel, list a service; obj: Channel, ChannelListing or the institution
    TAKEOVER_CONFIRM = (
        "takeover.confirm"  # obj: Project (its named takeover institution) or Takeover
    )
    # assisted use (issue 13 part 7)
    ASSISTED_ACT = "assisted.act"  # act for a person without an account; obj: the organisation
    ASSISTED_RECEIPT = "assisted.receipt"  # re-open a receipt; obj: AssistedAction
    # the platform's own clocks (due dates, expiry, reminders): nobody does these by hand
    PLATFORM_CLOCK = "platform.clock"  # obj: anything the clock moves
    # participation (issue 13, parts 3, 4, 6): consultation, comments, follows, reuses
    CONSULTATION_OPEN = "consultation.open"  # obj: Pact (its institution's reviewer)
    CONSULTATION_CLOSE = "consultation.close"  # obj: Pact (reviewer early, or the platform's clock)
    COMMENT_WRITE = "comment.write"  # post on an open consultation; obj: Consultation (a person)
    COMMENT_EDIT = "comment.edit"  # edit one's own comment before it is answered; obj: Comment
    COMMENT_FLAG = "comment.flag"  # flag someone else's comment or reuse; obj: Comment or Reuse
    COMMENT_ANSWER = "comment.answer"  # obj: Comment (carrier member or institution of the pact)
    PARTICIPATION_MODERATE = "participation.moderate"  # hide, keep, restore; obj: Comment or Reuse
    FOLLOW = "follow"  # follow or stop following anything public; obj: what is followed (a person)
    REUSE_DECLARE = "reuse.declare"  # obj: the dataset or project reused (a person)
    # comptoirs, experts, challenges (issue 12 parts 2, 3, 4)
    COMPTOIR_ANSWER = "comptoir.answer"  # review, answer, redirect, close a post; obj: Post
    COMPTOIR_MODERATE = "comptoir.moderate"  # hide a post with a public reason; obj: Post
    COMPTOIR_ROUTE = "comptoir.route"  # set a row of the published routing table; obj: Route
    EXPERT_PUBLISH = "expert.publish"  # publish, withdraw an expert; obj: institution or Expert
    EXPERT_ASK = "expert.ask"  # ask an exchange; obj: Project (with an active pact)
    EXPERT_ANSWER = "expert.answer"  # accept with slots, redirect, decline; obj: ExpertRequest
    EXPERT_SUMMARY = "expert.summary"  # record, confirm the summary; obj: ExpertRequest
    CHALLENGE_PUBLISH = "challenge.publish"  # publish, close; obj: institution or Challenge
    CHALLENGE_APPLY = "challenge.apply"  # obj: the acting carrier Organisation
    CHALLENGE_JURY = "challenge.jury"  # select or not, with reasons; obj: Application
    # issue 12 (promises): an institution keeps its own rows of the comptoir's routing table
    COMPTOIR_ROUTE_KEEP = (
        "comptoir.route_keep"  # add, change, remove a row; obj: Route or institution
    )


# ------------------------------------------------------------------ object readers
# Each reads one fact from a domain object by attribute, so no domain model is imported here.


def _carrier_id(obj: Any) -> int:
    """The carrier organisation behind a project, pact, request, grant, evaluation…"""
    if hasattr(obj, "carrier_id"):
        return int(obj.carrier_id)
    return int(obj.project.carrier_id)


def _institution_id(obj: Any) -> int:
    return int(obj.institution_id)


def _publisher_id(obj: Any) -> int:
    """The publishing institution of a data request or grant (through its dataset)."""
    if hasattr(obj, "dataset"):
        return int(obj.dataset.publisher_id)
    return int(obj.request.dataset.publisher_id)


# ------------------------------------------------------------------ rules
# A rule returns None when allowed, or the reason (translated, for a person) when not.
Refusal = str | None


def _is_carrier_member(acting: Acting, carrier_id: int) -> bool:
    return acting.organisation.pk == carrier_id and (
        acting.has(Role.CARRIER_MEMBER) or acting.has(Role.CARRIER_ADMIN)
    )


def _carrier_member(acting: Acting, obj: Any) -> Refusal:
    if _is_carrier_member(acting, _carrier_id(obj)):
        return None
    return _("Seuls les membres du porteur du projet peuvent faire cela.")


def _project_create(acting: Acting, obj: Any) -> Refusal:
    if acting.organisation.pk == obj.pk and obj.is_carrier and _is_carrier_member(acting, obj.pk):
        return None
    return _("Seul un porteur de projet peut proposer un projet.")


def _recusal(acting: Acting, obj: Any) -> Refusal:
    """The conflict-of-interest rule, written once: a member of the carrier never decides for the
    other side."""
    if is_member(acting.user, _carrier_id(obj)):
        return _(
            "Vous êtes membre de l'organisation porteuse : vous devez vous déporter de cette décision."
        )
    return None


def _pact_reviewer(acting: Acting, obj: Any) -> Refusal:
    if acting.organisation.pk != _institution_id(obj) or not acting.has(Role.REVIEWER):
        return _("Seul un instructeur de l'institution signataire peut faire cela.")
    return _recusal(acting, obj)


def signing_side(acting: Acting, pact: Any) -> str | None:
    """The side this person signs for ("carrier" or "institution"), or None."""
    if acting.organisation.pk == _carrier_id(pact) and acting.has(Role.CARRIER_ADMIN):
        return "carrier"
    if acting.organisation.pk == _institution_id(pact) and acting.has(Role.SIGNATORY):
        return "institution"
    return None


def _pact_signatory(acting: Acting, obj: Any) -> Refusal:
    side = signing_side(acting, obj)
    if side is None:
        return _(
            "Seuls l'administrateur du porteur et le signataire de l'institution peuvent signer ce pacte."
        )
    if side == "institution" and is_member(acting.user, _carrier_id(obj)):
        return _(
            "Vous êtes membre de l'organisation porteuse : vous ne pouvez pas signer ce pacte pour "
            "l'institution."
        )
    return None


def _commitment_owner(acting: Acting, obj: Any) -> Refusal:
    pact = obj.version.pact
    owner_org = _carrier_id(pact) if obj.owner == "carrier" else _institution_id(pact)
    if acting.organisation.pk == owner_org:
        return None
    return _("Seule la partie qui porte l'engagement peut déposer sa preuve.")


def _data_steward(acting: Acting, obj: Any) -> Refusal:
    if acting.organisation.pk == obj.pk and acting.has(Role.DATA_STEWARD):
        return None
    return _("Seul un responsable des données de l'institution éditrice peut faire cela.")


def _data_reviewer(acting: Acting, obj: Any) -> Refusal:
    if acting.organisation.pk != _publisher_id(obj) or not (
        acting.has(Role.REVIEWER) or acting.has(Role.DATA_STEWARD)
    ):
        return _(
            "Seul un instructeur ou un responsable des données de l'institution éditrice peut instruire "
            "cette demande."
        )
    return _recusal(acting, obj)


def _token_rotator(acting: Acting, obj: Any) -> Refusal:
    if acting.has(Role.PLATFORM_ADMIN):
        return None
    if acting.organisation.pk == _carrier_id(obj) and acting.has(Role.CARRIER_ADMIN):
        return None
    return _(
        "Seul un administrateur du porteur bénéficiaire (ou de la plateforme) peut émettre le jeton de cet "
        "accès : un nouveau jeton remplace aussitôt le précédent pour toute l'équipe."
    )


def _is_partner_institution(acting: Acting, project: Any) -> bool:
    return bool(
        acting.organisation.is_institution
        and project.pacts.filter(institution=acting.organisation).exists()
        and any(
            acting.has(r)
            for r in (Role.REVIEWER, Role.SIGNATORY, Role.DATA_STEWARD, Role.PLATFORM_ADMIN)
        )
    )


def _carrier_or_partner(acting: Acting, obj: Any) -> Refusal:
    if _is_carrier_member(acting, _carrier_id(obj)) or _is_partner_institution(acting, obj):
        return None
    return _("Seuls le porteur du projet et l'institution partenaire peuvent faire cela.")


def _experiment_designer(acting: Acting, obj: Any) -> Refusal:
    if acting.organisation.pk == obj.created_by_id:
        return None
    return _("Seule l'organisation qui a conçu l'expérimentation peut la conduire.")


def _experiment_author(acting: Acting, obj: Any) -> Refusal:
    if _is_carrier_member(acting, _carrier_id(obj)) or acting.has(Role.EVALUATOR):
        return None
    return _("Seuls le porteur et l'évaluateur indépendant conçoivent une expérimentation.")


def _panel_opener(acting: Acting, obj: Any) -> Refusal:
    if acting.organisation.pk == obj.opened_by_id:
        return None
    return _("Seule l'organisation qui a ouvert l'appel peut effectuer le tirage.")


def _independent_evaluator(acting: Acting, obj: Any) -> Refusal:
    if not acting.has(Role.EVALUATOR) or acting.organisation.kind != Organisation.Kind.EVALUATOR:
        return _(
            "Seul un évaluateur indépendant (rôle « évaluateur » d'un organisme d'évaluation) peut faire "
            "cela ; le porteur ne publie pas l'évaluation de son propre service."
        )
    if acting.organisation.pk == _carrier_id(obj) or is_member(acting.user, _carrier_id(obj)):
        return _(
            "Vous êtes membre du porteur : vous ne pouvez pas évaluer son service (indépendance)."
        )
    return None


def _evaluation_author(acting: Acting, obj: Any) -> Refusal:
    refusal = _independent_evaluator(acting, obj.project)
    if refusal is None and obj.evaluator_id != acting.organisation.pk:
        return _("Seul l'évaluateur qui a produit ce résultat peut le publier ou le modifier.")
    return refusal


def _finance_officer(acting: Acting, obj: Any) -> Refusal:
    """A finance officer of the institution that funds (a programme, its contracts and payments)."""
    institution_id = obj.pk if isinstance(obj, Organisation) else _institution_id(obj)
    if acting.organisation.pk != institution_id or not acting.has(Role.FINANCE_OFFICER):
        return _("Seul un agent financier de l'institution qui finance peut faire cela.")
    if not isinstance(obj, Organisation) and hasattr(obj, "carrier_id"):
        return _recusal(acting, obj)
    return None


def _payment_approver(acting: Acting, obj: Any) -> Refusal:
    """Two-person rule: an approver of the institution, never the person who prepared the order."""
    if acting.organisation.pk != _institution_id(obj) or not acting.has(Role.PAYMENT_APPROVER):
        return _(
            "Seul un approbateur des paiements de l'institution qui finance peut approuver cet ordre."
        )
    if acting.user.pk == obj.prepared_by_id:
        return _(
            "Règle des quatre yeux : vous ne pouvez pas approuver un ordre de paiement que vous avez préparé."
        )
    approvers = obj.contract.programme.approvers
    if approvers.exists() and not approvers.filter(pk=acting.user.pk).exists():
        return _("Ce programme désigne ses approbateurs : vous n'en faites pas partie.")
    return _recusal(acting, obj)


# channels and takeover (issue 12, parts 1 and 5)
def _channel_manager(acting: Acting, obj: Any) -> Refusal:
    """A signatory (or platform administrator) of the institution that owns the channel."""
    if isinstance(obj, Organisation):
        institution_id = obj.pk
    elif hasattr(obj, "channel"):
        institution_id = obj.channel.institution_id
    else:
        institution_id = _institution_id(obj)
    if not (
        acting.organisation.pk == institution_id
        and acting.organisation.is_institution
        and (acting.has(Role.SIGNATORY) or acting.has(Role.PLATFORM_ADMIN))
    ):
        return _("Seul un signataire de l'institution qui tient ce canal peut faire cela.")
    if hasattr(obj, "project"):  # listing a service: never one's own
        return _recusal(acting, obj)
    return None


def _takeover_signatory(acting: Acting, obj: Any) -> Refusal:
    """A signatory of the institution named to take the service over; never a carrier member."""
    if hasattr(obj, "takeover_institution_id"):  # a Project
        institution_id = obj.takeover_institution_id
    else:  # a Takeover
        institution_id = obj.institution_id
    if (
        institution_id is None
        or acting.organisation.pk != institution_id
        or not acting.has(Role.SIGNATORY)
    ):
        return _(
            "Seul un signataire de l'institution désignée pour reprendre le service peut confirmer "
            "la reprise."
        )
    return _recusal(acting, obj)


def _mediator(acting: Acting, obj: Any) -> Refusal:
    """A mediator of the organisation the assisted action is (or will be) recorded for."""
    organisation_id = obj.pk if isinstance(obj, Organisation) else int(obj.organisation_id)
    if acting.organisation.pk != organisation_id or not acting.has(Role.MEDIATOR):
        return _("Seul un médiateur de cette structure peut agir pour une personne accompagnée.")
    return None


def _platform_only(acting: Acting, obj: Any) -> Refusal:
    return _("Cette étape est faite par la plateforme, à son échéance.")


# participation (issue 13, parts 3, 4, 6): what a person may do in their own name, and who answers
# and moderates. A member acting for an organisation may also act as the person they are.


def _signed_in_person(person: Person, obj: Any) -> Refusal:
    return None if person.user.is_authenticated else _("Connectez-vous pour participer.")


def _own_contribution(person: Person, obj: Any) -> Refusal:
    if (
        person.user.is_authenticated
        and obj.author_id is not None
        and obj.author_id == person.user.pk
    ):
        return None
    return _("Seule la personne qui a écrit cette contribution peut la modifier.")


def _someone_elses(person: Person, obj: Any) -> Refusal:
    if not person.user.is_authenticated:
        return _("Connectez-vous pour participer.")
    if obj.author_id == person.user.pk:
        return _("Vous ne pouvez pas signaler votre propre contribution.")
    return None


def _as_person(check: Callable[[Person, Any], Refusal]) -> Callable[[Acting, Any], Refusal]:
    return lambda acting, obj: check(Person(acting.user), obj)


def _consultation_party(acting: Acting, obj: Any) -> Refusal:
    """The carrier (a member) or the institution of the pact under consultation answers publicly."""
    pact = obj.pact
    if _is_carrier_member(acting, _carrier_id(pact)) or acting.organisation.pk == _institution_id(
        pact
    ):
        return None
    return _("Seuls le porteur du projet et l'institution du pacte répondent aux commentaires.")


def _moderator(acting: Acting, obj: Any) -> Refusal:
    """A platform administrator, or the organisation in charge of what is commented or reused
    (the institution running the consultation, the dataset's publisher, the project's carrier)."""
    if acting.has(Role.PLATFORM_ADMIN):
        return None
    if acting.organisation.pk == obj.moderating_organisation_id and any(
        acting.has(r)
        for r in (Role.REVIEWER, Role.DATA_STEWARD, Role.CARRIER_ADMIN, Role.PLATFORM_ADMIN)
    ):
        return None
    return _(
        "Seuls un administrateur de la plateforme et l'organisation responsable de cette page "
        "modèrent les contributions."
    )


# comptoirs, experts, challenges (issue 12 parts 2, 3, 4)
def _comptoir_contact(acting: Acting, obj: Any) -> Refusal:
    """The contact the routing table names: its role in the organisation the post is routed to
    (a contribution offer goes to the project's carrier, any of its members)."""
    if obj.contact_role in (Role.CARRIER_MEMBER, Role.CARRIER_ADMIN):
        if _is_carrier_member(acting, obj.organisation_id):
            return None
    elif acting.organisation.pk == obj.organisation_id and acting.has(obj.contact_role):
        return None
    return _("Seul le contact désigné par la table de routage peut traiter ce dépôt.")


def _comptoir_moderator(acting: Acting, obj: Any) -> Refusal:
    # never the addressed institution itself: it would be judge of the criticism it receives
    if acting.has(Role.PLATFORM_ADMIN) and acting.organisation.pk != obj.organisation_id:
        return None
    return _(
        "Seul un administrateur de la plateforme (hors institution destinataire) peut modérer."
    )


def _platform_admin(acting: Acting, obj: Any) -> Refusal:
    if acting.has(Role.PLATFORM_ADMIN):
        return None
    return _("Seul un administrateur de la plateforme peut faire cela.")


def _institution_desk(acting: Acting, obj: Any) -> Refusal:
    """An instructor or a signatory of the institution (an Organisation, or an object's)."""
    institution_id = obj.pk if isinstance(obj, Organisation) else _institution_id(obj)
    if (
        acting.organisation.pk == institution_id
        and acting.organisation.is_institution
        and (acting.has(Role.REVIEWER) or acting.has(Role.SIGNATORY))
    ):
        return None
    return _("Seul un instructeur ou un signataire de l'institution peut faire cela.")


def _route_keeper(acting: Acting, obj: Any) -> Refusal:
    """Issue 12 (promises): a platform administrator, or a signatory of the institution the row
    routes to (an Organisation, or a Route's institution)."""
    if acting.has(Role.PLATFORM_ADMIN):
        return None
    institution_id = obj.pk if isinstance(obj, Organisation) else _institution_id(obj)
    if (
        acting.organisation.pk == institution_id
        and acting.organisation.is_institution
        and acting.has(Role.SIGNATORY)
    ):
        return None
    return _(
        "Seul un signataire de l'institution concernée (ou un administrateur de la plateforme) "
        "peut modifier cette ligne de la table de routage."
    )


def _expert_answerer(acting: Acting, obj: Any) -> Refusal:
    return _institution_desk(acting, obj) or _recusal(acting, obj)


def _carrier_with_active_pact(acting: Acting, obj: Any) -> Refusal:
    refusal = _carrier_member(acting, obj)
    if refusal is not None:
        return refusal
    if not obj.pacts.filter(versions__is_current=True, versions__status="active").exists():
        return _("Seul un projet dont le pacte est en vigueur peut demander un échange.")
    return None


def _exchange_party(acting: Acting, obj: Any) -> Refusal:
    if _is_carrier_member(acting, _carrier_id(obj)) or _institution_desk(acting, obj) is None:
        return None
    return _("Seules les deux parties de l'échange peuvent en rédiger la synthèse.")


def _challenge_team(acting: Acting, obj: Any) -> Refusal:
    if acting.organisation.pk == obj.pk and obj.is_carrier and _is_carrier_member(acting, obj.pk):
        return None
    return _("Seule une équipe porteuse (membre d'un porteur de projet) peut candidater.")


def _challenge_jury(acting: Acting, obj: Any) -> Refusal:
    return _institution_desk(acting, obj) or _recusal(acting, obj)


@dataclass(frozen=True)
class Rule:
    check: Callable[[Acting, Any], Refusal]
    system: bool = False  # may the platform itself (scheduler, compliance engine, CLI) do it?
    person: Callable[[Person, Any], Refusal] | None = None  # may a person do it in their own name?


RULES: dict[Action, Rule] = {
    Action.PROJECT_CREATE: Rule(_project_create),
    Action.PROJECT_EDIT: Rule(_carrier_member),
    Action.PACT_WRITE: Rule(_carrier_member),
    Action.PACT_REVIEW: Rule(_pact_reviewer),
    Action.PACT_SANCTION: Rule(_pact_reviewer, system=True),
    Action.PACT_SIGN: Rule(_pact_signatory),
    Action.COMMITMENT_EVIDENCE: Rule(_commitment_owner),
    Action.DATASET_PUBLISH: Rule(_data_steward, system=True),
    Action.DATA_REQUEST_WRITE: Rule(_carrier_member),
    Action.DATA_REQUEST_REVIEW: Rule(_data_reviewer),
    Action.GRANT_REVIEW: Rule(_data_reviewer, system=True),
    Action.GRANT_ROTATE_TOKEN: Rule(_token_rotator),
    Action.GRANT_USE: Rule(_carrier_member),  # issue 14 part 2: the grantee's team, signed in
    Action.PROJECT_CARRIER_WORK: Rule(_carrier_member),
    Action.PROJECT_PARTNER_WORK: Rule(_carrier_or_partner),
    Action.EXPERIMENT_DESIGN: Rule(_experiment_author),
    Action.EXPERIMENT_RUN: Rule(_experiment_designer),
    Action.PANEL_DRAW: Rule(_panel_opener),
    Action.PROJECT_EVALUATE: Rule(_independent_evaluator),
    Action.EVALUATION_OWN: Rule(_evaluation_author),
    Action.FUNDING_PROGRAMME: Rule(_finance_officer),
    Action.FUNDING_CONTRACT: Rule(_finance_officer),
    Action.FUNDING_WINDOW_VALIDATE: Rule(_independent_evaluator),
    Action.PAYMENT_PREPARE: Rule(_finance_officer, system=True),
    Action.PAYMENT_APPROVE: Rule(_payment_approver),
    Action.PAYMENT_SANCTION: Rule(_platform_only, system=True),
    Action.ASSISTED_ACT: Rule(_mediator),
    Action.ASSISTED_RECEIPT: Rule(_mediator),
    Action.PLATFORM_CLOCK: Rule(_platform_only, system=True),
    # channels and takeover (issue 12, parts 1 and 5)
    Action.CHANNEL_MANAGE: Rule(_channel_manager, system=True),
    Action.TAKEOVER_CONFIRM: Rule(_takeover_signatory),
    # participation (issue 13, parts 3, 4, 6)
    Action.CONSULTATION_OPEN: Rule(_pact_reviewer),
    Action.CONSULTATION_CLOSE: Rule(_pact_reviewer, system=True),
    Action.COMMENT_WRITE: Rule(_as_person(_signed_in_person), person=_signed_in_person),
    Action.COMMENT_EDIT: Rule(_as_person(_own_contribution), person=_own_contribution),
    Action.COMMENT_FLAG: Rule(_as_person(_someone_elses), person=_someone_elses),
    Action.COMMENT_ANSWER: Rule(_consultation_party),
    Action.PARTICIPATION_MODERATE: Rule(_moderator),
    Action.FOLLOW: Rule(_as_person(_signed_in_person), person=_signed_in_person),
    Action.REUSE_DECLARE: Rule(_as_person(_signed_in_person), person=_signed_in_person),
    # comptoirs, experts, challenges (issue 12 parts 2, 3, 4)
    Action.COMPTOIR_ANSWER: Rule(_comptoir_contact),
    Action.COMPTOIR_MODERATE: Rule(_comptoir_moderator),
    Action.COMPTOIR_ROUTE: Rule(_platform_admin, system=True),
    Action.EXPERT_PUBLISH: Rule(_institution_desk),
    Action.EXPERT_ASK: Rule(_carrier_with_active_pact),
    Action.EXPERT_ANSWER: Rule(_expert_answerer),
    Action.EXPERT_SUMMARY: Rule(_exchange_party),
    Action.CHALLENGE_PUBLISH: Rule(_institution_desk),
    Action.CHALLENGE_APPLY: Rule(_challenge_team),
    Action.CHALLENGE_JURY: Rule(_challenge_jury),
    # issue 12 (promises)
    Action.COMPTOIR_ROUTE_KEEP: Rule(_route_keeper, system=True),
}


def refusal(principal: Principal, action: Action, obj: Any) -> Refusal:
    """Why ``principal`` may not do ``action`` on ``obj`` (None: allowed)."""
    rule = RULES[action]
    if isinstance(principal, PlatformPrincipal):
        return (
            None
            if rule.system
            else _("Cette action ne peut pas être faite automatiquement par la plateforme.")
        )
    if isinstance(principal, Person):
        if rule.person is None:
            return _(
                "Cette action se fait pour une organisation : choisissez celle pour laquelle vous agissez."
            )
        return rule.person(principal, obj)
    if not isinstance(principal, Acting):
        raise TypeError(f"a principal is an Acting or policy.SYSTEM, not {principal!r}")
    return rule.check(principal, obj)


def may(principal: Principal | None, action: Action, obj: Any) -> bool:
    """For pages and selectors: False for an anonymous visitor (None), never an exception."""
    return principal is not None and refusal(principal, action, obj) is None


def require(principal: Principal, action: Action, obj: Any) -> None:
    """For use cases: raise PermissionDenied (403, translated) unless allowed."""
    reason = refusal(principal, action, obj)
    if reason is not None:
        raise PermissionDenied(reason)


def actor_of(principal: Principal) -> Actor:
    """Who acted, as the public journal writes it: organisation and role; the person only as a
    salted commitment (see ``pacte.journal.services.Actor``)."""
    if isinstance(principal, PlatformPrincipal):
        return SYSTEM_ACTOR
    if isinstance(principal, Person):
        return Actor(organisation_slug="", role="person", person_id=principal.user.pk)
    role = sorted(principal.roles)[0] if principal.roles else ""
    return Actor(
        organisation_slug=principal.organisation.slug, role=role, person_id=principal.user.pk
    )
