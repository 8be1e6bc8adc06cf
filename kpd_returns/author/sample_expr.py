"""The sample profiles' expressions are evaluated by the project's one evaluator, spec.expr (moved
there so the checks can use it for row conditions); the author modules take it from here."""

from __future__ import annotations

from ..spec.expr import FUNCTIONS, ProfileError, evaluate, parse  # noqa: F401
