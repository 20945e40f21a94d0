"""What each report section computes, one module per report notebook (``period`` is shared).

Pure functions over DataFrames and fitted models that return tables, result objects and
plain-words data-sufficiency verdicts; the notebooks only call them and display the results, so
the numbers a report shows are tested here, not in the notebook. Importing a module does not load
papermill or nbconvert.

* :mod:`~segkit.reports.sections.period`: reporting periods and the ``Sufficiency`` verdict;
* :mod:`~segkit.reports.sections.ab`: ``ab_test``;
* :mod:`~segkit.reports.sections.churn` and :mod:`~segkit.reports.sections.ltv`: ``ltv_churn``;
* :mod:`~segkit.reports.sections.segments`: ``segment_analysis``;
* :mod:`~segkit.reports.sections.sendtime`: ``send_time``.
"""
