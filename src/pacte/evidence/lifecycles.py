"""The evidence domain's state machines, each declared once as a table of moves.

=================  ============  ==============  ===============  ===========================
lifecycle          action        from            to               who (``policy.Action``)
=================  ============  ==============  ===============  ===========================
evaluation         publish       draft           published        EVALUATION_OWN
algorithm sheet    publish       draft           published        PROJECT_CARRIER_WORK
experiment         preregister   draft           preregistered    EXPERIMENT_RUN
experiment         assign        preregistered   assigned         EXPERIMENT_RUN
panel call         draw          open            drawn            PANEL_DRAW
feedback           hide          visible         hidden           PROJECT_PARTNER_WORK (reason)
=================  ============  ==============  ===============  ===========================

Every transition goes through ``LIFECYCLE.apply(principal, action, obj, reason, **data)`` after the
use case locked the row (``select_for_update(of=("self",))``): policy → reason → source state →
state saved → journal event, in the use case's transaction. What a move needs beyond its state
(computing a plan, drawing a panel, the compliance re-run) stays in the use case, before or after
``apply``; fields the use case sets on the object before ``apply`` are saved with the state.

A refused move says why in the domain's words (``refusals``: e.g. "pre-register the analysis plan
before any assignment") instead of the generic "impossible from state X".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.errors import InvalidTransition
from pacte.evidence import events
from pacte.evidence.models import AlgorithmSheet, Evaluation, Experiment, Feedback, PanelCall
from pacte.writes.lifecycle import Lifecycle, Move

T = TypeVar("T")


@dataclass
class ExplainedLifecycle(Lifecycle[T]):
    """A lifecycle whose refused moves are explained per (action, current state)."""

    refusals: Mapping[tuple[str, str], Any] = field(default_factory=dict)

    @classmethod
    def declare(cls, name: str, moves: Iterable[Move], **hooks: Any) -> ExplainedLifecycle[T]:
        return cls(name=name, moves={m.action: m for m in moves}, **hooks)

    def check(
        self, principal: policy.Principal, action: str, obj: T, reason: str = ""
    ) -> tuple[Move, str]:
        try:
            return super().check(principal, action, obj, reason)
        except InvalidTransition:
            message = self.refusals.get((action, self.state_of(obj)))
            if message is None:
                raise
            raise InvalidTransition(str(message)) from None


# ---------------------------------------------------------------- evaluation: draft → published


def _set_evaluation_state(evaluation: Evaluation, state: str, reason: str) -> None:
    evaluation.status = state
    if state == Evaluation.State.PUBLISHED:
        evaluation.published_at = timezone.now()
        evaluation.published_on = evaluation.published_on or timezone.localdate()
    # a queryset update: the model refuses save() on anything already published (see the model)
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=evaluation.status,
        published_at=evaluation.published_at,
        published_on=evaluation.published_on,
    )


def _record_evaluation(
    evaluation: Evaluation, event: str, principal: policy.Principal, data: dict[str, Any]
) -> None:
    events.record(event, principal, "evaluation", evaluation.pk, evaluation.project, **data)


EVALUATION: ExplainedLifecycle[Evaluation] = ExplainedLifecycle.declare(
    "evaluation",
    [
        Move.of(
            "publish",
            [Evaluation.State.DRAFT],
            Evaluation.State.PUBLISHED,
            Action.EVALUATION_OWN,
            "evaluation.published",
        )
    ],
    state_of=lambda e: e.status,
    set_state=_set_evaluation_state,
    record=_record_evaluation,
    state_label=lambda s: str(Evaluation.State(s).label),
    refusals={
        ("publish", Evaluation.State.PUBLISHED): _(
            "Cette évaluation est déjà publiée ; une publication est définitive."
        )
    },
)


# ---------------------------------------------------------------- algorithm sheet: draft → published


def _set_sheet_state(sheet: AlgorithmSheet, state: str, reason: str) -> None:
    sheet.status = state
    if state == AlgorithmSheet.State.PUBLISHED:
        sheet.published_at = timezone.now()
        sheet.published_on = sheet.published_on or timezone.localdate()
    sheet.save()


def _record_sheet(
    sheet: AlgorithmSheet, event: str, principal: policy.Principal, data: dict[str, Any]
) -> None:
    events.record(event, principal, "algorithm_sheet", sheet.pk, sheet.project, **data)


SHEET: ExplainedLifecycle[AlgorithmSheet] = ExplainedLifecycle.declare(
    "algorithm_sheet",
    [
        Move.of(
            "publish",
            [AlgorithmSheet.State.DRAFT],
            AlgorithmSheet.State.PUBLISHED,
            Action.PROJECT_CARRIER_WORK,
            "algorithm_sheet.published",
        )
    ],
    state_of=lambda s: s.status,
    set_state=_set_sheet_state,
    record=_record_sheet,
    subject=lambda s: s.project,
    state_label=lambda s: str(AlgorithmSheet.State(s).label),
    refusals={
        ("publish", AlgorithmSheet.State.PUBLISHED): _(
            "Cette fiche est déjà publiée ; publiez une nouvelle version pour la changer."
        )
    },
)


# ---------------------------------------------------------------- experiment: draft → preregistered → assigned


def _set_experiment_state(exp: Experiment, state: str, reason: str) -> None:
    exp.status = state
    if state == Experiment.State.PREREGISTERED:
        exp.preregistered_at = timezone.now()
    elif state == Experiment.State.ASSIGNED:
        exp.assigned_at = timezone.now()
    exp.save()


def _record_experiment(
    exp: Experiment, event: str, principal: policy.Principal, data: dict[str, Any]
) -> None:
    events.record(event, principal, "experiment", exp.slug, exp.project, **data)


_ALREADY_PREREGISTERED = _("Cette expérimentation est déjà pré-enregistrée.")
EXPERIMENT: ExplainedLifecycle[Experiment] = ExplainedLifecycle.declare(
    "experiment",
    [
        Move.of(
            "preregister",
            [Experiment.State.DRAFT],
            Experiment.State.PREREGISTERED,
            Action.EXPERIMENT_RUN,
            "experiment.preregistered",
        ),
        Move.of(
            "assign",
            [Experiment.State.PREREGISTERED],
            Experiment.State.ASSIGNED,
            Action.EXPERIMENT_RUN,
            "experiment.assigned",
        ),
    ],
    state_of=lambda e: e.status,
    set_state=_set_experiment_state,
    record=_record_experiment,
    state_label=lambda s: str(Experiment.State(s).label),
    refusals={
        ("preregister", Experiment.State.PREREGISTERED): _ALREADY_PREREGISTERED,
        ("preregister", Experiment.State.ASSIGNED): _ALREADY_PREREGISTERED,
        ("assign", Experiment.State.DRAFT): _(
            "Pré-enregistrez le plan d'analyse avant toute affectation."
        ),
        ("assign", Experiment.State.ASSIGNED): _("L'affectation a déjà été faite."),
    },
)


# ---------------------------------------------------------------- panel call: open → drawn


def _set_panel_state(call: PanelCall, state: str, reason: str) -> None:
    call.status = state
    if state == PanelCall.State.DRAWN:
        call.drawn_at = timezone.now()
    call.save()


def _record_panel(
    call: PanelCall, event: str, principal: policy.Principal, data: dict[str, Any]
) -> None:
    events.record(event, principal, "panel", call.pk, call.project, **data)


PANEL_CALL: ExplainedLifecycle[PanelCall] = ExplainedLifecycle.declare(
    "panel_call",
    [
        Move.of(
            "draw", [PanelCall.State.OPEN], PanelCall.State.DRAWN, Action.PANEL_DRAW, "panel.drawn"
        )
    ],
    state_of=lambda c: c.status,
    set_state=_set_panel_state,
    record=_record_panel,
    state_label=lambda s: str(PanelCall.State(s).label),
    refusals={
        ("draw", PanelCall.State.DRAWN): _("Le tirage de ce panel a déjà eu lieu."),
        ("draw", PanelCall.State.CLOSED): _("Le tirage de ce panel a déjà eu lieu."),
    },
)


# ---------------------------------------------------------------- feedback: visible → hidden (moderation)

VISIBLE, HIDDEN = "visible", "hidden"


def _feedback_state(feedback: Feedback) -> str:
    return HIDDEN if feedback.hidden else VISIBLE


def _set_feedback_state(feedback: Feedback, state: str, reason: str) -> None:
    feedback.hidden = state == HIDDEN
    feedback.hidden_reason = reason if feedback.hidden else ""
    feedback.save()


def _record_feedback(
    feedback: Feedback, event: str, principal: policy.Principal, data: dict[str, Any]
) -> None:
    events.record(
        event,
        principal,
        "project",
        feedback.project.slug,
        feedback.project,
        feedback=feedback.pk,
        **data,
    )


def _feedback_state_label(state: str) -> str:
    return str(_("masqué") if state == HIDDEN else _("visible"))


FEEDBACK: ExplainedLifecycle[Feedback] = ExplainedLifecycle.declare(
    "feedback",
    [
        Move.of(
            "hide", [VISIBLE], HIDDEN, Action.PROJECT_PARTNER_WORK, "feedback.hidden", reason=True
        )
    ],
    state_of=_feedback_state,
    set_state=_set_feedback_state,
    record=_record_feedback,
    subject=lambda f: f.project,
    state_label=_feedback_state_label,
    refusals={("hide", HIDDEN): _("Ce commentaire est déjà masqué.")},
)

LIFECYCLES: tuple[ExplainedLifecycle[Any], ...] = (
    EVALUATION,
    SHEET,
    EXPERIMENT,
    PANEL_CALL,
    FEEDBACK,
)
