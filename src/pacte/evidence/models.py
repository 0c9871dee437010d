"""Evidence: test panels, feedback, pre-registered experiments, impact evaluations, bias audits,
algorithm sheets, and the compliance cases the engine opens on a pact."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation, User
from pacte.errors import InvalidTransition
from pacte.pacts.models import Pact, PactVersion
from pacte.projects.models import Project

# ------------------------------------------------------------------ panels (S2, P2)

AGE_BANDS = {
    "16-25": "16 à 25 ans",
    "26-40": "26 à 40 ans",
    "41-60": "41 à 60 ans",
    "60+": "plus de 60 ans",
}
SITUATIONS = {
    "demandeur_emploi": "Demandeur d'emploi",
    "salarie": "Salarié",
    "etudiant": "Étudiant",
    "retraite": "Retraité",
    "sans_activite": "Sans activité",
    "autre": "Autre",
}
PANEL_ATTRIBUTES = {
    "age_band": "Tranche d'âge",
    "territory": "Territoire",
    "situation": "Situation",
}
UNKNOWN_STRATUM = "non renseigné"


class Volunteer(models.Model):
    """A person who volunteered as a tester. Leaving erases every personal field; the row
    stays (anonymous) so public aggregate counts do not change retroactively."""

    class Contact(models.TextChoices):
        EMAIL = "email", _("Courriel")
        PHONE = "phone", _("Téléphone")
        NONE = "none", _("Ne pas me contacter hors du panel")

    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="volunteer"
    )
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_text_version = models.CharField(max_length=20, blank=True)
    contact_preference = models.CharField(max_length=10, choices=Contact.choices, blank=True)
    contact_value = models.CharField(max_length=200, blank=True)
    age_band = models.CharField(max_length=10, blank=True)
    territory = models.CharField(max_length=120, blank=True)
    situation = models.CharField(max_length=30, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("volontaire")

    def __str__(self) -> str:
        return f"volontaire {self.pk}"

    @property
    def active(self) -> bool:
        return self.left_at is None

    def attribute(self, name: str) -> str:
        return getattr(self, name, "") or UNKNOWN_STRATUM


class PanelCall(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("Ouvert")
        DRAWN = "drawn", _("Tirage effectué")
        CLOSED = "closed", _("Clos")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="panel_calls")
    pact = models.ForeignKey(
        Pact, null=True, blank=True, on_delete=models.SET_NULL, related_name="panel_calls"
    )
    opened_by = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    target_size = models.PositiveIntegerField()
    stratify_by = models.CharField(max_length=20, default="age_band")
    targets = models.JSONField(default=dict, help_text="{stratum: seats}")
    status = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    seed_commitment = models.CharField(max_length=64)
    seed_hex = models.CharField(
        max_length=128, blank=True, help_text="secret until the draw, then public"
    )
    opened_on = models.DateField()
    drawn_at = models.DateTimeField(null=True, blank=True)
    shortfall = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("appel à panel")

    def __str__(self) -> str:
        return self.title


class PanelMember(models.Model):
    """One drawn seat. Keeps its stratum (aggregate) when the volunteer leaves."""

    call = models.ForeignKey(PanelCall, on_delete=models.CASCADE, related_name="members")
    volunteer = models.ForeignKey(
        Volunteer, null=True, on_delete=models.SET_NULL, related_name="seats"
    )
    stratum = models.CharField(max_length=120)
    invited_at = models.DateTimeField(auto_now_add=True)
    left = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.call_id}:{self.stratum}"


# ------------------------------------------------------------------ feedback loop


class Question(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="questions")
    version = models.ForeignKey(
        PactVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=300)
    scale_max = models.PositiveSmallIntegerField(
        default=0, help_text="0 = free answer, else 1..N rating"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.text


class Feedback(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="feedback")
    version = models.ForeignKey(
        PactVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reply = models.TextField(blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"avis {self.pk}"


# ------------------------------------------------------------------ experiments


class Experiment(models.Model):
    class Design(models.TextChoices):
        INDIVIDUAL = "individual", _("Randomisation individuelle")
        ENCOURAGEMENT = "encouragement", _("Design d'encouragement")

    class State(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        PREREGISTERED = "preregistered", _("Pré-enregistrée")
        ASSIGNED = "assigned", _("Affectation faite")

    slug = models.SlugField(max_length=120, unique=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="experiments")
    pact = models.ForeignKey(
        Pact, null=True, blank=True, on_delete=models.SET_NULL, related_name="experiments"
    )
    created_by = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    hypothesis = models.TextField()
    outcome = models.CharField(max_length=300)
    estimand = models.CharField(max_length=120, default="intention de traiter (ITT)")
    unit = models.CharField(max_length=120, default="personne")
    design = models.CharField(max_length=20, choices=Design.choices, default=Design.INDIVIDUAL)
    window_months = models.PositiveSmallIntegerField(default=6)
    baseline_rate = models.FloatField(help_text="expected control proportion (fraction)")
    mde_points = models.FloatField()
    power = models.FloatField(default=0.8)
    alpha = models.FloatField(default=0.05)
    arms = models.JSONField(default=list)
    ratio = models.JSONField(default=list)
    required_per_arm = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=15, choices=State.choices, default=State.DRAFT)
    plan = models.JSONField(default=dict)
    plan_hash = models.CharField(max_length=64, blank=True)
    seed_commitment = models.CharField(max_length=64, blank=True)
    seed_hex = models.CharField(
        max_length=128, blank=True, help_text="secret until assignment, then public"
    )
    allocation_sha256 = models.CharField(max_length=64, blank=True)
    preregistered_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    # The replay of the assignment from the public log, computed once (it is deterministic and
    # costs as much as the assignment); `pacte evidence replay` recomputes it for anyone.
    replay_report = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.slug


class Assignment(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="assignments")
    unit_id = models.CharField(max_length=80)
    stratum = models.CharField(max_length=80, blank=True)
    arm = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "unit_id"], name="uniq_assignment_unit")
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} → {self.arm}"


# ------------------------------------------------------------------ impact evaluations (C4)


class ImmutableWhenPublished(models.Model):
    """Published evidence can be neither edited nor deleted, whatever the code path."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._published_in_database():
            raise InvalidTransition(
                str(_("Une publication est définitive : elle ne peut plus être modifiée."))
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._published_in_database():
            raise InvalidTransition(
                str(_("Une publication est définitive : elle ne peut pas être supprimée."))
            )
        return super().delete(*args, **kwargs)

    def _published_in_database(self) -> bool:
        published = {
            "status": "published"
        }  # a field of the concrete models, not of this abstract one
        return (
            bool(self.pk) and type(self)._default_manager.filter(pk=self.pk, **published).exists()
        )


class Evaluation(ImmutableWhenPublished):
    class Method(models.TextChoices):
        PROPORTIONS = "proportions", _("Différence de proportions (Newcombe) et rapport de risques")
        MEANS = "means", _("Différence de moyennes (Welch)")
        DID = "did", _("Différence de différences (cohorte de comparaison)")

    class State(models.TextChoices):
        DRAFT = "draft", _("Brouillon de l'évaluateur")
        PUBLISHED = "published", _("Publiée")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="evaluations")
    pact = models.ForeignKey(
        Pact, null=True, blank=True, on_delete=models.PROTECT, related_name="evaluations"
    )
    experiment = models.ForeignKey(
        Experiment, null=True, blank=True, on_delete=models.PROTECT, related_name="evaluations"
    )
    evaluator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    outcome = models.CharField(max_length=300)
    window = models.CharField(max_length=60)
    estimand = models.CharField(max_length=120)
    method = models.CharField(max_length=15, choices=Method.choices)
    source = models.CharField(
        max_length=20, default="aggregate", help_text="aggregate | upload | gateway"
    )
    data_sha256 = models.CharField(max_length=64, blank=True)
    n_treatment = models.PositiveIntegerField()
    n_control = models.PositiveIntegerField()
    successes_treatment = models.PositiveIntegerField(null=True, blank=True)
    successes_control = models.PositiveIntegerField(null=True, blank=True)
    estimate = models.FloatField()
    ci_low = models.FloatField()
    ci_high = models.FloatField()
    p_value = models.FloatField()
    scale = models.FloatField(default=1.0)
    unit = models.CharField(max_length=30, blank=True)
    conclusive = models.BooleanField()
    sentence = models.TextField()
    power = models.FloatField(null=True, blank=True)
    mde_points = models.FloatField(null=True, blank=True)
    details = models.JSONField(default=dict, help_text="risk ratio, method text, group means…")
    status = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = _("évaluation d'impact")

    def __str__(self) -> str:
        return self.title

    def displayed(self) -> tuple[float, float, float]:
        return (self.estimate * self.scale, self.ci_low * self.scale, self.ci_high * self.scale)


# ------------------------------------------------------------------ bias audits (C3)


class Audit(ImmutableWhenPublished):
    class State(models.TextChoices):
        PUBLISHED = "published", _("Publié")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="audits")
    pact = models.ForeignKey(
        Pact, null=True, blank=True, on_delete=models.PROTECT, related_name="audits"
    )
    auditor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    decision = models.CharField(max_length=200, help_text="the decision audited")
    band_low = models.FloatField()
    band_high = models.FloatField()
    band_source = models.CharField(max_length=200)
    min_group_size = models.PositiveIntegerField()
    reference_group = models.CharField(max_length=120)
    n_rows = models.PositiveIntegerField()
    data_sha256 = models.CharField(max_length=64)
    rows = models.JSONField(default=list)
    groups = models.JSONField(default=list)
    breach_count = models.PositiveIntegerField(default=0)
    insufficient_count = models.PositiveIntegerField(default=0)
    remediation_key = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=10, choices=State.choices, default=State.PUBLISHED)
    published_at = models.DateTimeField()
    published_on = models.DateField()

    class Meta:
        ordering = ["-published_at"]
        verbose_name = _("audit de biais")

    def __str__(self) -> str:
        return self.title


# ------------------------------------------------------------------ algorithm sheets (C6)


class AlgorithmSheet(models.Model):
    class Degree(models.TextChoices):
        SUPPORT = "support", _("Aide à la décision : un agent décide")
        PARTIAL = "partial", _("Décision partiellement automatisée")
        AUTOMATED = "automated", _("Décision entièrement automatisée")

    class State(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        PUBLISHED = "published", _("Publiée")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="algorithm_sheets")
    title = models.CharField(max_length=200)
    purpose = models.TextField(help_text="finalité et décision concernée")
    contribution_degree = models.CharField(max_length=12, choices=Degree.choices)
    contribution_mode = models.TextField()
    data_sources = models.JSONField(default=list, help_text="[{name, source, description}]")
    parameters = models.JSONField(default=list, help_text="[{key, label, weight, description}]")
    operations = models.TextField()
    human_oversight = models.TextField()
    risks = models.TextField()
    objection_contact = models.CharField(max_length=200)
    legal_basis = models.CharField(max_length=200, default="CRPA art. L311-3-1 et R311-3-1-2")
    status = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("fiche algorithme")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "title", "version"], name="uniq_algorithm_sheet_version"
            )
        ]

    def __str__(self) -> str:
        return self.title


# ------------------------------------------------------------------ compliance (C7)


class ComplianceCase(models.Model):
    """A breach path the engine opened on a pact version, with its (possibly simulated) dates."""

    class State(models.TextChoices):
        NOTIFIED = "notified", _("Manquement notifié")
        SUSPENDED = "suspended", _("Suspendu")
        CURED = "cured", _("Remédié")
        BROKEN = "broken", _("Rompu")

    version = models.ForeignKey(
        PactVersion, on_delete=models.CASCADE, related_name="compliance_cases"
    )
    commitment_keys = models.JSONField(default=list)
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=State.choices, default=State.NOTIFIED)
    opened_on = models.DateField()
    cure_deadline = models.DateField()
    suspended_on = models.DateField(null=True, blank=True)
    break_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_on", "-id"]

    def __str__(self) -> str:
        return f"{self.version} : {self.status}"
