"""Which report sections apply to the data at hand (:class:`segkit.overview.DataShape`).

A purchase log without an email platform, a workspace without a subscribers table, or a log
where every customer bought once cannot support every section a report has. The functions here
choose what applies and say, in one line, why something is absent or replaced, so a report never
shows an empty table or a figure the data cannot mean (everyone "inactive" because there are no
opens, "100% high risk" from a 30-day engagement churn on a yearly purchase rhythm).
"""

from __future__ import annotations

from dataclasses import dataclass

from segkit.overview import SCHEME_NEEDS, DataShape

__all__ = [
    "Choice",
    "TRIGGER_NEEDS",
    "absent",
    "applicable_churn_method",
    "applicable_metric",
    "applicable_scheme",
    "applicable_triggers",
]

#: What each behavioural trigger needs: cart adds, human opens, a signup date.
TRIGGER_NEEDS: dict[str, tuple[str, ...]] = {
    "cart_abandonment": ("cart_adds",),
    "inactivity": ("opens",),
    "high_value_falling_engagement": ("opens",),
    "new_subscriber": ("subscribers",),
}
#: The scheme shown instead when the chosen one does not apply.
FALLBACK_SCHEMES = ("rfm", "lifecycle")


@dataclass(frozen=True)
class Choice:
    """What a section uses (``value``) and, when that differs from what was asked, why (``note``)."""

    value: str
    note: str | None = None


def absent(section: str, reason: str) -> str:
    """The one line a report shows for a section that does not apply: ``"**No <section>:**
    <reason>."``"""
    return f"**No {section}:** {reason.rstrip('.')}."


def applicable_scheme(scheme: str, shape: DataShape) -> Choice:
    """``scheme`` when the data support it, else the first of :data:`FALLBACK_SCHEMES` they do
    (the engagement tiers read opens and clicks: without them everyone would be "inactive")."""
    reason = shape.missing(*SCHEME_NEEDS.get(scheme, ()))
    if reason is None:
        return Choice(scheme)
    if scheme == "rfm" and shape.missing("purchases") is None:  # asked for: shown, with what it lacks
        return Choice(scheme, f"In the rfm scheme the frequency score cannot tell customers apart: {reason}; "
                              "read the groups by recency and spend.")
    for other in FALLBACK_SCHEMES:
        if other != scheme and shape.missing(*SCHEME_NEEDS[other]) is None:
            return Choice(other, f"The {scheme} scheme does not apply because {reason}; "
                                 f"the {other} scheme is shown instead.")
    return Choice(scheme, f"The {scheme} scheme may not mean much here: {reason}.")


def applicable_metric(metric: str, shape: DataShape) -> Choice:
    """The performance metric to chart: ``metric`` unless the data lack its event (a click
    rate without clicks), then the open rate, else the conversion rate."""
    needs = {"open": "opens", "click": "clicks", "click_to_open": "clicks"}
    stem = metric.removesuffix("_rate")
    reason = shape.missing(needs[stem]) if stem in needs else None
    if reason is None:
        return Choice(metric)
    other = "open_rate" if shape.missing("opens") is None else "conversion_rate"
    return Choice(other, f"{metric} is not charted because {reason}; {other} is charted instead.")


def applicable_churn_method(method: str, shape: DataShape) -> Choice:
    """``"classifier"`` (engagement churn: no human open, click or purchase in a period) needs
    email events; on a purchase log a short horizon calls nearly every customer churned, so
    the purchase-dropout view (``"bgnbd"``, 1 - P(alive)) is used instead."""
    if method != "classifier" or shape.has_email_events:
        return Choice(method)
    return Choice("bgnbd", "Churn risk is shown as purchase dropout (1 - P(alive) from BG/NBD) because "
                           f"{shape.missing('email')}: an engagement churn classifier over a short period "
                           "would call most customers of a purchase log churned.")


def applicable_triggers(shape: DataShape) -> tuple[list[str], list[str]]:
    """Triggers the data support, and one line per trigger left out saying why."""
    kept, notes = [], []
    for name, needs in TRIGGER_NEEDS.items():
        reason = shape.missing(*needs)
        if reason is None:
            kept.append(name)
        else:
            notes.append(f"{name} is not evaluated: {reason}.")
    return kept, notes
