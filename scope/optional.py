"""Optional dependencies: import them where they are needed, with one clear line when missing.

Heavy or optional packages (TensorFlow, XGBoost, cesium, nifty-ls, CuPy, wandb) are imported
inside the functions that use them. :func:`require` turns a missing one into a
:class:`~scope.errors.MissingDependency` naming the pip extra that installs it, which the
command-line layer prints as a single line instead of a ``ModuleNotFoundError`` traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from scope.errors import MissingDependency

# import name -> (pip extra of scope-ztf that installs it, what it is for)
EXTRAS = {
    "tensorflow": ("train", "DNN training and inference"),
    "keras": ("train", "DNN training and inference"),
    "xgboost": ("train", "XGBoost training and inference"),
    "wandb": ("train", "Weights & Biases tracking"),
    "cesium": ("features", "the --doCesium features"),
    "nifty_ls": ("features", "the fast Lomb-Scargle backend"),
    "cupy": ("gpu", "the GPU period search"),
}


def require(module: str, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming the extra to install.

    Parameters
    ----------
    module : str
        Importable name, e.g. ``"xgboost"`` or ``"tensorflow"``.
    purpose : str, optional
        What the caller needs it for (defaults to the registry's description).

    Returns
    -------
    types.ModuleType
        The imported module.

    Raises
    ------
    MissingDependency
        When the package (or one of its own dependencies) is not installed.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        extra, default_purpose = EXTRAS.get(top, (None, None))
        why = purpose or default_purpose or module
        hint = (f'pip install "scope-ztf[{extra}]"' if extra else f"pip install {top}")
        missing = exc.name or top
        raise MissingDependency(f"{why} needs the Python package '{missing}', which is not installed; "
                                f"install it with: {hint}") from None
