"""The machine-learning packages each algorithm needs, checked before any work starts.

XGBoost and TensorFlow/Keras come with the ``train`` extra. A command that will need one calls
:func:`require_algorithm` first, so a machine with only the ``features`` extra gets one line
naming the extra to install instead of a ``ModuleNotFoundError`` traceback after minutes of
work. Script generators, which only write commands for another machine, use
:func:`missing_package` to warn.
"""

from __future__ import annotations

import importlib.util
import sys

from scope.optional import require

#: import names each algorithm needs, in import order
PACKAGES = {"dnn": ("tensorflow", "keras"), "xgb": ("xgboost",)}
PURPOSE = {"dnn": "the DNN (TensorFlow/Keras)", "xgb": "XGBoost"}


def require_algorithm(algorithm: str, **keras_kw):
    """Import what ``algorithm`` needs or raise :class:`~scope.errors.MissingDependency`.

    Parameters
    ----------
    algorithm : str
        ``dnn`` or ``xgb`` (any spelling :func:`scope.training.options.normalize_algorithm` takes).
    **keras_kw
        For the DNN: passed to :func:`scope.training.dnn.import_keras` (e.g. ``gpu``).

    Returns
    -------
    module
        ``keras`` or ``xgboost``.
    """
    from scope.training.options import normalize_algorithm

    algorithm = normalize_algorithm(algorithm)
    if algorithm == "xgb":
        return require("xgboost", PURPOSE["xgb"])
    from scope.training.dnn import import_keras

    return import_keras(**keras_kw)


def missing_package(algorithm: str) -> str | None:
    """The first package ``algorithm`` needs that is not installed here (without importing it)."""
    from scope.training.options import normalize_algorithm

    for name in PACKAGES[normalize_algorithm(algorithm)]:
        if name in sys.modules:
            if sys.modules[name] is None:  # an import of it was blocked
                return name
            continue
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):
            return name
    return None


def warn_if_missing(algorithm: str, what: str, logger) -> None:
    """Log one warning when the script being written needs a package this machine lacks."""
    from scope.optional import EXTRAS

    name = missing_package(algorithm)
    if name:
        extra = EXTRAS.get(name, ("train", ""))[0]
        logger.warning("%s need the Python package '%s', which is not installed here; install it with "
                       'pip install "scope-ztf[%s]" where the script runs', what, name, extra)
