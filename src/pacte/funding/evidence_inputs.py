"""The one place funding reads evidence (through ``pacte.evidence.ports``): a published evaluation
and the project's bias-audit standing, turned into the formula's inputs."""

from __future__ import annotations

from pacte.evidence.ports import (
    BiasStanding,
    PublishedEvaluation,
    bias_standing,
    published_evaluation,
)

__all__ = ["BiasStanding", "PublishedEvaluation", "bias_standing", "published_evaluation"]
