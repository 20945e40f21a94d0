"""Privacy and compliance: erasure (:func:`forget`), access (:func:`access`) and retention
(:func:`prune`) over a workspace. Who may be emailed is decided by :func:`segkit.consent.eligible`.

Erased subscribers are kept out of later ingests by a suppression list of salted hashes (see
:mod:`segkit.io._suppression`); reports show pseudonymous ids (:mod:`segkit.reports.display`).
"""

from segkit.privacy._access import access
from segkit.privacy._forget import ErasureReport, forget
from segkit.privacy._prune import AGE_UNITS, PruneReport, parse_age, prune

__all__ = ["AGE_UNITS", "ErasureReport", "PruneReport", "access", "forget", "parse_age", "prune"]
