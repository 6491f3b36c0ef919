"""The demo sky: a synthetic but realistic ZTF field for trying SCoPe without any account.

:func:`make_demo_sky` writes light curves in the public ZTF data-release layout, ancillary
catalogs (Gaia EDR3, AllWISE, PS1, ZTF alerts), a truth table and training labels, and points
``config.yaml`` at them. See ``docs/demo.md`` for what is simulated and why.
"""

from scope.demo.classes import CLASS_LABELS, CLASSES, LABEL_NAMES, allocate_counts
from scope.demo.sky import DemoSky, make_demo_sky

__all__ = ["CLASS_LABELS", "CLASSES", "LABEL_NAMES", "DemoSky", "allocate_counts", "make_demo_sky"]
