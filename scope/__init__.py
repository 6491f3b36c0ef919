"""SCoPe: ZTF source classification toolkit (light curves -> features -> classifiers -> predictions)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scope-ztf")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
