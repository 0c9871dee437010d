"""The pact's moves from its page: which buttons a person sees, a confirmation step for what cannot
be undone (sign, close, break), and a result message that says what happened and what comes next.

The moves themselves are the pacts domain's use cases (pacte.pacts.actions); nothing here decides.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_stubs_ext import StrOrPromise

from pacte.accounts.models import Role
from pacte.accounts.services import Acting
from pacte.errors import DomainError, NotAuthenticated, PermissionDenied
from pacte.pacts import actions as pact_actions
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import selectors as pact_selectors
from pacte.pacts.models import PactVersion, Status
from pacte.web import forms

ACTION_LABELS = {
    "submit": gettext_lazy("Soumettre"),
    "withdraw": gettext_lazy("Retirer"),
    "request_changes": gettext_lazy("Demander des modifications"),
    "approve": gettext_lazy("Approuver"),
    "sign": gettext_lazy("Signer"),
    "notify_breach": gettext_lazy("Notifier un manquement"),
    "cure": gettext_lazy("Constater la remédiation"),
    "suspend": gettext_lazy("Suspendre (sanctions)"),
    "reinstate": gettext_lazy("Rétablir"),
    "break": gettext_lazy("Rompre le pacte"),
    "complete": gettext_lazy("Clore (terme atteint)"),
    "new_version": gettext_lazy("Créer une nouvelle version"),
}
NEEDS_REASON = {"withdraw", "request_changes", "notify_breach", "suspend", "break"}

# What cannot be undone asks for a confirmation first: what will happen, in words.
IRREVERSIBLE: dict[str, StrOrPromise] = {
    "sign": gettext_lazy(
        "Vous signez ce texte au nom de votre organisation, avec votre clé personnelle. La "
        "signature porte sur l'empreinte du texte canonique ; elle est publique et ne peut pas "
        "être retirée. Le pacte entre en vigueur quand les deux parties ont signé."
    ),
    "complete": gettext_lazy(
        "Le pacte est clos parce que son terme est atteint. Ses engagements ne sont plus suivis ; "
        "il reste public, avec ses résultats. Une clôture ne peut pas être annulée."
    ),
    "break": gettext_lazy(
        "Le pacte est rompu : les accès aux données et les versements qu'il prévoit prennent fin. "
        "Le motif est publié au journal. Une rupture est définitive."
    ),
}


def available_actions(
    acting: Acting | None, version: PactVersion
) -> list[tuple[str, StrOrPromise, bool]]:
    """The moves this person may start from the version's page: (code, label, needs a reason)."""
    if acting is None:
        return []
    pact = version.pact
    carrier = acting.organisation.pk == pact.project.carrier_id
    institution = acting.organisation.pk == pact.institution_id
    s = version.status
    acts: list[str] = []
    if carrier:
        if s == Status.DRAFT:
            acts += ["submit", "withdraw"]
        if s in (Status.SUBMITTED, Status.CHANGES_REQUESTED):
            acts.append("withdraw")
        if s in (Status.CHANGES_REQUESTED, Status.ACTIVE) and version.is_current:
            acts.append("new_version")
        if s in (Status.APPROVED, Status.SIGNING) and acting.has(Role.CARRIER_ADMIN):
            acts.append("sign")
    if institution:
        if acting.has(Role.REVIEWER):
            acts += {
                Status.SUBMITTED: ["approve", "request_changes"],
                Status.ACTIVE: ["notify_breach", "complete"],
                Status.BREACH_NOTIFIED: ["cure", "suspend"],
                Status.SUSPENDED: ["reinstate", "break"],
            }.get(Status(s), [])
        if s in (Status.APPROVED, Status.SIGNING) and acting.has(Role.SIGNATORY):
            acts.append("sign")
    if "approve" in acts and any(
        r.reviewer_id == acting.user.pk and r.decision == "approve" for r in version.reviews.all()
    ):
        acts.remove("approve")  # approved already: the second review belongs to someone else
    if "sign" in acts:
        side = "carrier" if carrier else "institution"
        if any(sig.side == side for sig in version.signatures.all()):
            acts.remove("sign")  # this side has signed; the other side's signature is awaited
    return [(a, ACTION_LABELS[a], a in NEEDS_REASON) for a in acts]


def result_message(action: str, version: PactVersion) -> str:
    """What happened and what comes next, after a move succeeded (``version`` as it is now)."""
    status = version.status
    if action == "approve":
        if status == Status.SUBMITTED:
            approvals = version.reviews.filter(decision="approve").count()
            return _(
                "Votre approbation est enregistrée (%(approvals)s sur 2). Un second instructeur de "
                "l'institution doit maintenant approuver ce pacte."
            ) % {"approvals": approvals}
        return _(
            "Pacte approuvé. Prochaine étape : la signature du porteur et celle de l'institution."
        )
    if action == "sign":
        if status == Status.ACTIVE:
            return _(
                "Signature enregistrée : les deux parties ont signé, le pacte est en vigueur. Ses "
                "engagements sont maintenant suivis sur la page du projet."
            )
        return _(
            "Votre signature est enregistrée. Le pacte entrera en vigueur quand l'autre partie "
            "aura signé."
        )
    return str(
        {
            "submit": _(
                "Pacte soumis à l'instruction. L'institution va l'examiner ; vous verrez sa décision "
                "dans votre espace."
            ),
            "withdraw": _(
                "Pacte retiré : il n'est plus instruit. Il reste visible des deux parties."
            ),
            "request_changes": _(
                "Modifications demandées. Le porteur peut maintenant préparer une nouvelle version."
            ),
            "notify_breach": _(
                "Manquement notifié au porteur. Il a jusqu'au %(deadline)s pour y remédier ; "
                "ensuite, vous pourrez suspendre le pacte."
            )
            % {"deadline": version.cure_deadline or "—"},
            "cure": _("Remédiation constatée : le pacte est de nouveau en vigueur."),
            "suspend": _(
                "Pacte suspendu : les sanctions prévues s'appliquent. Vous pourrez ensuite le "
                "rétablir ou le rompre."
            ),
            "reinstate": _("Pacte rétabli : il est de nouveau en vigueur."),
            "break": _(
                "Pacte rompu. La décision et son motif sont publiés au journal ; elle est définitive."
            ),
            "complete": _(
                "Pacte clos : son terme est atteint. Il reste public, avec ses engagements et leurs "
                "résultats."
            ),
        }.get(action, _("C'est fait."))
    )


def _acting(request: HttpRequest) -> Acting:
    acting: Acting | None = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


@login_required
@require_POST
def version_action(request: HttpRequest, reference: str, number: int, action: str) -> HttpResponse:
    """Run a move. An irreversible one shows its confirmation page first (no JavaScript needed):
    the same form comes back with ``confirm=1``."""
    acting = _acting(request)
    version = pact_selectors.get_version(acting, reference, number)
    form = forms.ReasonForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    if action == "new_version":
        new = pact_drafting.new_version(acting, version.pact)
        messages.success(
            request,
            _(
                "Nouvelle version %(number)s créée, en brouillon : modifiez-la puis soumettez-la. "
                "La version en vigueur le reste jusqu'à la signature de la nouvelle."
            )
            % {"number": new.number},
        )
        return redirect("web:version_edit", reference=reference, number=new.number)
    if action not in pact_actions.ACTIONS:
        raise PermissionDenied(_("Action inconnue."))
    if action in IRREVERSIBLE and request.POST.get("confirm") != "1":
        return _confirmation(request, version, action, reason)
    try:
        pact_actions.ACTIONS[action](acting, version, reason)
    except DomainError as exc:
        messages.error(request, exc.message)
        for msgs in exc.field_errors.values():
            for msg in msgs:
                messages.error(request, msg)
        return redirect("web:version", reference=reference, number=number)
    version.refresh_from_db()
    messages.success(request, result_message(action, version))
    return redirect("web:version", reference=reference, number=number)


def _confirmation(
    request: HttpRequest, version: PactVersion, action: str, reason: str
) -> HttpResponse:
    return render(
        request,
        "web/confirm_move.html",
        {
            "version": version,
            "pact": version.pact,
            "action": action,
            "label": ACTION_LABELS[action],
            "consequence": IRREVERSIBLE[action],
            "needs_reason": action in NEEDS_REASON,
            "reason": reason,
        },
    )
