"""Chart builders: pure functions from DataFrames/results to altair charts (no statistics inside).

Each area adds its builders in its own ``_<area>.py`` module and one import line below.
"""

__all__: list[str] = []
