"""Public participation: consultations on submitted pacts and their comments, follows and in-app
notices, reuses of datasets, APIs and code."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation, User
from pacte.data.models import Dataset
from pacte.links import web_link_validator
from pacte.pacts.models import Pact, PactVersion
from pacte.projects.models import Project


class Consultation(models.Model):
    """A public consultation on one submitted pact version, for a period set by the institution."""

    class State(models.TextChoices):
        OPEN = "open", _("Ouverte")
        CLOSED = "closed", _("Close")

    version = models.OneToOneField(
        PactVersion, on_delete=models.CASCADE, related_name="consultation"
    )
    opened_by = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    days = models.PositiveSmallIntegerField(_("durée (jours)"))
    opens_at = models.DateTimeField(_("ouverte le"))
    closes_at = models.DateTimeField(_("close le"), db_index=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opens_at"]
        verbose_name = _("consultation publique")

    def __str__(self) -> str:
        return f"{self.version} ({self.get_state_display()})"

    @property
    def pact(self) -> Pact:
        return self.version.pact

    def accepts_comments(self, now: datetime | None = None) -> bool:
        moment = now or timezone.now()
        return self.state == self.State.OPEN and self.opens_at <= moment < self.closes_at


class Section(models.TextChoices):
    MISSION = "mission", _("Mission d'intérêt général")
    PRINCIPLES = "principles", _("Principes et engagements")
    DATA = "data", _("Données demandées")
    STATE = "state", _("Engagements de l'État")


class Contribution(models.Model):
    """What comments and reuses share: an author (kept as NULL once the account is deleted), a
    moderation state and its public reason."""

    class State(models.TextChoices):
        PUBLISHED = "published", _("Publié")
        ANSWERED = "answered", _("Répondu")
        HIDDEN = "hidden", _("Masqué par la modération")

    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.PUBLISHED, db_index=True
    )
    moderation_reason = models.TextField(blank=True)
    moderated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def author_label(self) -> str:
        return str(self.author) if self.author is not None else str(_("Compte supprimé"))

    @property
    def is_visible(self) -> bool:
        return self.state != self.State.HIDDEN


class Comment(Contribution):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="comments"
    )
    section = models.CharField(_("partie du pacte"), max_length=12, choices=Section.choices)
    text = models.TextField(_("commentaire"))
    edited_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(_("réponse"), blank=True)
    answered_by = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("commentaire")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_section_display()}"

    @property
    def pact(self) -> Pact:
        return self.consultation.version.pact

    @property
    def moderating_organisation_id(self) -> int:
        return int(self.consultation.version.pact.institution_id)


class CommentRevision(models.Model):
    """An earlier text of a comment, kept when its author edits it (shown as its history)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    text = models.TextField()
    written_at = models.DateTimeField()
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["written_at", "id"]

    def __str__(self) -> str:
        return f"#{self.comment_id} {self.written_at:%Y-%m-%d %H:%M}"


class Reuse(Contribution):
    """A declared reuse of a dataset, of its API, or of a project's code (as data.gouv.fr lists them)."""

    class Kind(models.TextChoices):
        DATASET = "dataset", _("Jeu de données")
        API = "api", _("API")
        CODE = "code", _("Code du projet")

    kind = models.CharField(_("ce qui est réutilisé"), max_length=10, choices=Kind.choices)
    dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.CASCADE, related_name="reuses"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="reuses"
    )
    title = models.CharField(_("titre"), max_length=200)
    description = models.TextField(_("description"))
    reuser = models.CharField(_("par qui"), max_length=200)
    place = models.CharField(_("où"), max_length=200, blank=True)
    url = models.URLField(_("lien"), max_length=500, validators=[web_link_validator])

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("réutilisation")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(dataset__isnull=False, project__isnull=True)
                | models.Q(dataset__isnull=True, project__isnull=False),
                name="reuse_one_target",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def moderating_organisation_id(self) -> int:
        if self.dataset is not None:
            return int(self.dataset.publisher_id)
        assert self.project is not None
        return int(self.project.carrier_id)


class Flag(models.Model):
    """A person's signal that a comment or a reuse breaks the rules (one per person and item)."""

    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    reuse = models.ForeignKey(
        Reuse, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("motif du signalement"), max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="uniq_flag_comment_user"),
            models.UniqueConstraint(fields=["reuse", "user"], name="uniq_flag_reuse_user"),
        ]

    def __str__(self) -> str:
        return f"flag {self.pk}: {self.reason[:40]}"


class Follow(models.Model):
    class Target(models.TextChoices):
        REGISTRY = "registry", _("Tout le registre")
        PROJECT = "project", _("Projet")
        INSTITUTION = "institution", _("Institution")
        DATASET = "dataset", _("Jeu de données")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="follows")
    target = models.CharField(max_length=12, choices=Target.choices)
    key = models.CharField(max_length=120, blank=True)  # the slug; empty for the registry
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["target", "key"]
        constraints = [
            models.UniqueConstraint(fields=["user", "target", "key"], name="uniq_follow")
        ]

    def __str__(self) -> str:
        return f"{self.target}:{self.key}"


class DigestPreference(models.Model):
    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", _("Immédiatement")
        DAILY = "daily", _("Un résumé par jour")
        WEEKLY = "weekly", _("Un résumé par semaine")
        NEVER = "never", _("Jamais (notifications sur le site seulement)")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="digest_preference")
    frequency = models.CharField(
        _("courriels"), max_length=10, choices=Frequency.choices, default=Frequency.DAILY
    )
    last_sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.frequency}"


class Notice(models.Model):
    """An in-app notification: one journal entry that concerns this person (what they follow, or
    their own comment or reuse); e-mailed in their next digest."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notices")
    event_index = models.BigIntegerField()
    event_type = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    why = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-event_index"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event_index"], name="uniq_notice_event")
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_unread")]

    def __str__(self) -> str:
        return self.title


class JournalCursor(models.Model):
    """How far the fan-out has read the journal (singleton row, locked while it reads)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    next_index = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"journal cursor at {self.next_index}"
