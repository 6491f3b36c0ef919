"""Light curves: the ragged batch type, ZTF id helpers and sources."""

from scope.lightcurves.batch import LightCurveBatch

__all__ = ["LightCurveBatch"]
