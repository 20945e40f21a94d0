"""``python -m segkit``: the same as the ``segkit`` command."""

from segkit.cli import main

if __name__ == "__main__":
    main()
