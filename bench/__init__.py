"""Scripts that print figures: run each from the project root as a module, ``python -m bench.<name>``.

A module of this package never shadows an installed package or one of Stagegate's apps (``bench.markdown``
is not ``markdown``, ``bench.dashboard`` is not ``dashboard``), whatever its name.
"""
