"""The State's open doors (issue 12): comptoir posts (S3), expert exchanges (S2), challenges (P8).

Each of them runs on a clock the public can see: a comptoir post is routed to an institution and
a contact role by the published routing table (:class:`Route`) and must be answered before its
due date; an expert request must be answered by the expert's institution before its own. Each
routing of a post is one :class:`Assignment`, so that a redirection closes one institution's
item (answered by redirecting) and opens the next one's: the State's record reads them.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation, Role, User
from pacte.data.models import Dataset
from pacte.engines.comptoir_routing import fold
from pacte.funding.models import Programme
from pacte.pacts.models import Pact
from pacte.projects.models import Project

POST_CLOCK_DAYS = 30  # the catch-all routing row's clock
EXPERT_CLOCK_DAYS = 15  # an institution answers an expert request within this many days


class Theme(models.TextChoices):
    EMPLOYMENT = "emploi", _("Emploi et insertion")
    HEALTH = "sante", _("Santé")
    HOUSING = "logement", _("Logement")
    EDUCATION = "education", _("Éducation et jeunesse")
    MOBILITY = "mobilite", _("Mobilité")
    ENVIRONMENT = "environnement", _("Environnement")
    DIGITAL = "numerique", _("Inclusion numérique")
    SOLIDARITY = "solidarite", _("Solidarités et accès aux droits")
    OTHER = "autre", _("Autre")


class Route(models.Model):
    """One row of the published routing table: theme × territory → institution, contact, clock."""

    theme = models.CharField(_("thème"), max_length=20, choices=Theme.choices, blank=True)
    territory = models.CharField(_("territoire"), max_length=120, blank=True)
    institution = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="comptoir_routes"
    )
    contact_role = models.CharField(_("rôle du contact"), max_length=30, choices=Role.choices)
    contact_title = models.CharField(_("contact nommé"), max_length=120)
    clock_days = models.PositiveSmallIntegerField(_("délai de réponse (jours)"), default=30)

    class Meta:
        ordering = ["theme", "territory", "pk"]
        verbose_name = _("règle de routage")
        constraints = [
            models.UniqueConstraint(fields=["theme", "territory"], name="uniq_comptoir_route"),
            models.CheckConstraint(
                condition=models.Q(clock_days__gte=1), name="comptoir_route_clock_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.theme or '*'} / {self.territory or '*'} → {self.institution}"


class RoutingVersion(models.Model):
    """One published version of the routing table (issue 12): every change to a row publishes a
    new version, with the change, its reason and the whole table as it then stood."""

    class Change(models.TextChoices):
        ADDED = "added", _("Ligne ajoutée")
        CHANGED = "changed", _("Ligne modifiée")
        REMOVED = "removed", _("Ligne retirée")

    number = models.PositiveIntegerField(unique=True)
    published_at = models.DateTimeField()
    change = models.CharField(max_length=10, choices=Change.choices)
    theme = models.CharField(max_length=20, blank=True)
    territory = models.CharField(max_length=120, blank=True)
    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    published_by = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the organisation of the person who changed the row; empty: the platform",
    )
    reason = models.TextField(blank=True)
    rows = models.JSONField(default=list, help_text="the whole table after the change")

    class Meta:
        ordering = ["-number"]
        verbose_name = _("version de la table de routage")

    def __str__(self) -> str:
        return f"v{self.number} ({self.change})"

    @property
    def theme_label(self) -> str:
        return str(Theme(self.theme).label) if self.theme in Theme.values else ""


class Post(models.Model):
    """A problem, a project proposal or an offer to contribute, posted by a signed-in person (or
    by a mediator for a person without an account)."""

    class Kind(models.TextChoices):
        PROBLEM = "probleme", _("Un problème")
        PROJECT = "projet", _("Une proposition de projet")
        CONTRIBUTION = "contribution", _("Une offre de contribution")

    class State(models.TextChoices):
        RECEIVED = "received", _("Reçu")
        IN_REVIEW = "in_review", _("En cours d'examen")
        ANSWERED = "answered", _("Répondu")
        REDIRECTED = "redirected", _("Réorienté")
        CLOSED = "closed", _("Clos")

    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("titre"), max_length=200)
    theme = models.CharField(_("thème"), max_length=20, choices=Theme.choices)
    territory = models.CharField(_("territoire"), max_length=120)
    body = models.TextField(_("description"))
    # a problem (the societal problem, not a solution)
    affected = models.CharField(_("qui est concerné"), max_length=300, blank=True)
    affected_count = models.PositiveIntegerField(_("combien de personnes"), null=True, blank=True)
    today = models.TextField(_("ce qui se passe aujourd'hui"), blank=True)
    # an offer to contribute to an existing project
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="comptoir_offers"
    )
    skills = models.CharField(_("compétences"), max_length=300, blank=True)
    time_offered = models.CharField(_("temps proposé"), max_length=120, blank=True)

    # None for a post a mediator made for a person without an account (issue 13, P7) until the
    # person claims it; ``contact_email`` is then where answers go, if the person gave one
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="comptoir_posts"
    )
    with_mediator = models.BooleanField(_("déposé avec l'aide d'un médiateur"), default=False)
    contact_email = models.EmailField(blank=True)
    status = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    # the current routing (copied from the open Assignment, for lists and the policy)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="comptoir_posts"
    )
    contact_role = models.CharField(max_length=30, choices=Role.choices)
    contact_title = models.CharField(max_length=120)
    due_at = models.DateTimeField()
    late = models.BooleanField(default=False)
    answer = models.TextField(_("réponse"), blank=True)
    last_reason = models.TextField(blank=True)
    hidden = models.BooleanField(default=False)
    moderation_reason = models.TextField(blank=True)
    became_project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="comptoir_origin"
    )
    search_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("dépôt au comptoir")
        indexes = [models.Index(fields=["status", "due_at"], name="comptoir_post_clock")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = fold(
            " ".join(
                [self.title, self.body, self.territory, self.affected, self.today, self.skills]
            )
        )
        super().save(*args, **kwargs)

    @property
    def institution_id(self) -> int:
        """The organisation that must answer (an institution; a carrier for a contribution)."""
        return int(self.organisation_id)

    @property
    def is_open(self) -> bool:
        return self.status in (self.State.RECEIVED, self.State.IN_REVIEW, self.State.REDIRECTED)


class Assignment(models.Model):
    """One routing of a post to one organisation, with its clock; closed by the first response
    (answer, redirection or closing) of that organisation."""

    class Outcome(models.TextChoices):
        ANSWERED = "answered", _("Répondu")
        REDIRECTED = "redirected", _("Réorienté")
        CLOSED = "closed", _("Clos")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="assignments")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="comptoir_assignments"
    )
    contact_role = models.CharField(max_length=30, choices=Role.choices)
    contact_title = models.CharField(max_length=120)
    routed_at = models.DateTimeField()
    due_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    late_marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["routed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["post"],
                condition=models.Q(responded_at__isnull=True),
                name="one_open_assignment_per_post",
            )
        ]

    def __str__(self) -> str:
        return f"{self.post_id} → {self.organisation}"


class Expert(models.Model):
    """An expert an institution makes available to carriers with an active pact."""

    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="experts")
    name = models.CharField(_("nom"), max_length=200)
    domain = models.CharField(_("domaine"), max_length=200)
    organisation_label = models.CharField(_("service ou organisme"), max_length=200)
    availability = models.CharField(_("disponibilités"), max_length=300)
    languages = models.JSONField(_("langues"), default=list, blank=True)
    bio = models.TextField(_("présentation"), blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(_("motif du retrait"), blank=True)

    class Meta:
        ordering = ["domain", "name", "pk"]
        verbose_name = _("expert")

    def __str__(self) -> str:
        return f"{self.name} ({self.domain})"


class ExpertRequest(models.Model):
    """A carrier asks an institution's expert for an exchange on a topic."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Demandé, en attente de réponse")
        ACCEPTED = "accepted", _("Accepté, créneaux proposés")
        REDIRECTED = "redirected", _("Réorienté vers un autre expert")
        DECLINED = "declined", _("Décliné")
        COMPLETED = "completed", _("Échange tenu, synthèse publiée")

    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="requests")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="expert_requests")
    topic = models.CharField(_("sujet"), max_length=200)
    question = models.TextField(_("question"))
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    late = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=State.choices, default=State.REQUESTED)
    slots = models.JSONField(default=list, blank=True)
    last_reason = models.TextField(blank=True)
    redirected_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="redirected_from"
    )
    # after the exchange: each side's own notes (seen by both sides only), and the public part
    # both must confirm
    carrier_notes = models.TextField(blank=True)
    institution_notes = models.TextField(blank=True)
    public_summary = models.TextField(blank=True)
    carrier_confirmed = models.BooleanField(default=False)
    institution_confirmed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("demande d'échange avec un expert")

    def __str__(self) -> str:
        return self.topic

    @property
    def institution_id(self) -> int:
        return int(self.expert.institution_id)

    @property
    def carrier_id(self) -> int:
        return int(self.project.carrier_id)


class Challenge(models.Model):
    """A problem an institution puts to teams, with its data, its funding and its criteria."""

    class State(models.TextChoices):
        OPEN = "open", _("Ouvert aux candidatures")
        CLOSED = "closed", _("Candidatures closes")
        DECIDED = "decided", _("Sélection publiée")

    slug = models.SlugField(max_length=120, unique=True)
    institution = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="challenges"
    )
    title = models.CharField(_("titre"), max_length=200)
    problem = models.TextField(_("le problème"))
    theme = models.CharField(_("thème"), max_length=20, choices=Theme.choices)
    territory = models.CharField(_("territoire"), max_length=120, blank=True)
    criteria = models.TextField(_("critères de sélection"))
    deadline = models.DateField(_("date limite des candidatures"))
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, null=True, blank=True, related_name="challenges"
    )
    datasets = models.ManyToManyField(Dataset, blank=True, related_name="challenges")
    status = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    last_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "slug"]
        verbose_name = _("défi")

    def __str__(self) -> str:
        return self.title


class Application(models.Model):
    """A team (a carrier organisation) answers a challenge."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Candidature déposée")
        SELECTED = "selected", _("Retenue")
        NOT_SELECTED = "not_selected", _("Non retenue")

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="applications")
    carrier = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="challenge_applications"
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposal = models.TextField(_("proposition"))
    team = models.CharField(_("l'équipe"), max_length=300)
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=15, choices=State.choices, default=State.SUBMITTED)
    reason = models.TextField(_("motif du jury"), blank=True)
    pact = models.ForeignKey(
        Pact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["submitted_at", "pk"]
        verbose_name = _("candidature à un défi")
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "carrier"], name="one_application_per_team"
            )
        ]

    def __str__(self) -> str:
        return f"{self.carrier} → {self.challenge}"

    @property
    def institution_id(self) -> int:
        return int(self.challenge.institution_id)
