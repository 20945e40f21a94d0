"""Exceptions raised by segkit.

Every error a user can cause is a subclass of :class:`SegkitError`, carries a message that says what
to change, and has an ``exit_code`` the CLI uses when it turns the error into one line on stderr.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "DataSufficiencyWarning",
    "InputError",
    "NotFittedError",
    "SegkitError",
    "ValidationError",
]


class SegkitError(Exception):
    """Base class for errors a user can act on."""

    exit_code: int = 1


class InputError(SegkitError):
    """A structural problem with an input file or table: missing, unreadable, empty, wrong format,
    a required column absent after mapping, an unknown mapping target. Nothing was written."""

    exit_code = 2


class ValidationError(SegkitError, ValueError):
    """An argument or a data value breaks a documented rule (bad parameter, invalid domain value)."""

    exit_code = 2


class NotFittedError(SegkitError, AttributeError):
    """An estimator method that needs fitted state was called before ``fit``."""


class ConvergenceError(SegkitError, RuntimeError):
    """An optimiser did not converge; the message says what was tried."""


class DataSufficiencyWarning(UserWarning):
    """The data are too thin for a confident answer (too few repeat buyers, too short a period...)."""
