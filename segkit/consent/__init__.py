"""Consent: the one gate that decides who may be emailed (subscribed, consented, not suppressed).

Every export and audience in segkit passes through :func:`eligible`.
"""

from segkit.consent._gate import EXCLUSION_REASONS, ConsentResult, eligible

__all__ = ["ConsentResult", "EXCLUSION_REASONS", "eligible"]
