"""Build the demo sky: schedule, objects, light curves, catalogs, truth, labels, config."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field as dc_field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from scope.demo import alerts as alerts_mod
from scope.demo import brightstars, catalogs, geometry, writer
from scope.demo.cadence import simulate_schedule
from scope.demo.classes import CLASSES, LABEL_NAMES
from scope.demo.photometry import bad_exposures, measure
from scope.demo.population import draw_population
from scope.errors import DataError
from scope.lightcurves import ztf_ids

log = logging.getLogger(__name__)

CATALOG_NAMES = ("Gaia_EDR3", "AllWISE", "PS1_DR1", "ZTF_alerts")
TRUTH_NAME = "truth.parquet"
LABELS_NAME = "labels.parquet"
CONFIG_NAME = "config.yaml"
_QUAD_MISSING_RATE = 0.015
_DENSE_PHASES = 2048
MAX_OBJECTS = 200_000  # a demo, not a survey (and catalog ids keep six digits for a running number)


@dataclass
class DemoLightCurve:
    """One object's measured light curve in one band, with its truth."""

    star: int
    band: int
    exposure: np.ndarray
    hmjd: np.ndarray
    mag: np.ndarray
    magerr: np.ndarray
    clrcoeff: np.ndarray
    catflags: np.ndarray
    outlier: np.ndarray
    amplitude: float
    mean_mag: float


@dataclass
class DemoSky:
    """What :func:`make_demo_sky` wrote.

    Attributes
    ----------
    output_dir, archive_path, catalogs_path, truth_path, labels_path : pathlib.Path
    config_path : pathlib.Path or None
        The updated ``config.yaml`` (None when the config was left alone).
    field : int
    n_objects : int
        Physical objects (each may have a light curve in several bands).
    n_lightcurves : int
        Archive rows (object x band).
    n_exposures : int
    class_counts : dict
        Objects per class key.
    n_near_bright_star : int
    files : list of pathlib.Path
        Every file written.
    seconds : float
    """

    output_dir: Path
    archive_path: Path
    catalogs_path: Path
    truth_path: Path
    labels_path: Path
    config_path: Path | None
    field: int
    n_objects: int
    n_lightcurves: int
    n_exposures: int
    class_counts: dict
    n_near_bright_star: int
    files: list = dc_field(default_factory=list)
    seconds: float = 0.0


def _band_ids(bands) -> tuple[int, ...]:
    out = []
    for b in bands:
        key = str(b).strip().lower()
        if key in ("1", "2", "3"):
            fid = int(key)
        elif key in ztf_ids.FILTER_IDS:
            fid = ztf_ids.FILTER_IDS[key]
        else:
            raise DataError(f"unknown band '{b}': use g, r or i")
        if fid not in out:
            out.append(fid)
    if not out:
        raise DataError("at least one band is needed (g, r or i)")
    return tuple(sorted(out))


def _check_name(name: str, what: str) -> str:
    p = PurePosixPath(str(name))
    if not str(name).strip() or p.is_absolute() or ".." in p.parts:
        raise DataError(f"{what} must be a folder name inside the output directory, got '{name}'")
    return str(p)


def _validate(field, ccds, quads, n_per_quad, variable_fraction, years, start_mjd):
    if not 1 <= int(field) <= 1999:
        raise DataError(f"field must be between 1 and 1999, got {field}")
    for c in ccds:
        if not 1 <= int(c) <= 16:
            raise DataError(f"CCD must be between 1 and 16, got {c}")
    for q in quads:
        if not 1 <= int(q) <= 4:
            raise DataError(f"quadrant must be between 1 and 4, got {q}")
    if not ccds or not quads:
        raise DataError("at least one CCD and one quadrant are needed")
    if not 1 <= int(n_per_quad) <= MAX_OBJECTS:
        raise DataError(f"objects per quadrant must be between 1 and {MAX_OBJECTS}, got {n_per_quad}")
    if int(n_per_quad) * len(ccds) * len(quads) > MAX_OBJECTS:
        raise DataError(f"the demo holds at most {MAX_OBJECTS} objects; ask for fewer CCDs, quadrants "
                        "or objects per quadrant")
    if not 0.0 <= float(variable_fraction) <= 1.0:
        raise DataError(f"variable fraction must be between 0 and 1, got {variable_fraction}")
    if not 0.05 <= float(years) <= 20.0:
        raise DataError(f"survey length must be between 0.05 and 20 years, got {years}")
    if not 40000.0 <= float(start_mjd) <= 80000.0:
        raise DataError(f"start MJD looks wrong: {start_mjd} (ZTF began at MJD 58194)")


def _prepare_output(output_dir: Path) -> Path:
    out = Path(output_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise DataError(f"output directory is a file, not a folder: {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create output directory {out}: {exc.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise DataError(f"output directory is not writable: {out}")
    return out.resolve()


def _observe(rng, schedule, pop, quadrants, bands) -> list[DemoLightCurve]:
    """Measure every object in every band on the exposures that cover it."""
    n_exp = len(schedule)
    base = {b: pop.base_mag(b) for b in bands}
    out = []
    for ccd, quad in quadrants:
        missing = rng.random(n_exp) < _QUAD_MISSING_RATE  # quadrant readout failures
        bad = bad_exposures(rng, schedule.limmag)
        for star in np.flatnonzero((pop.ccd == ccd) & (pop.quad == quad)):
            spec = CLASSES[pop.cls[star]]
            params = pop.params[star]
            covered = ~missing & (rng.random(n_exp) >= pop.drop_fraction[star])
            idx = {b: np.flatnonzero(covered & (schedule.band == b)) for b in bands}
            offsets = spec.simulate(params, rng, {b: schedule.hmjd[i] for b, i in idx.items()})
            if spec.periodic:
                cycle = params["t0"] + params["period"] * np.arange(_DENSE_PHASES) / _DENSE_PHASES
                dense = spec.simulate(params, rng, {b: cycle for b in bands})
                summary = {b: (float(np.ptp(dense[b])), float(np.mean(dense[b]))) for b in bands}
            else:
                summary = {b: (float(np.ptp(offsets[b])) if len(offsets[b]) else 0.0,
                               float(np.mean(offsets[b])) if len(offsets[b]) else 0.0) for b in bands}
            for b in bands:
                i = idx[b]
                true = base[b][star] + offsets[b]
                m = measure(rng, i, true, schedule.limmag[i], schedule.zp_error[i], bad[i],
                            pop.flag_rate[star], pop.outlier_rate[star])
                if len(m.exposure) == 0:
                    continue  # never detected in this band: no archive row, as in the real DR
                out.append(DemoLightCurve(
                    star=int(star), band=int(b), exposure=m.exposure, hmjd=schedule.hmjd[m.exposure],
                    mag=m.mag, magerr=m.magerr, clrcoeff=schedule.clrcoeff[m.exposure], catflags=m.catflags,
                    outlier=m.outlier, amplitude=summary[b][0], mean_mag=float(base[b][star] + summary[b][1])))
    return out


def _objectid(field, pop, lc) -> int:
    return int(ztf_ids.encode_objectid(field, lc.band, pop.ccd[lc.star], pop.quad[lc.star], pop.number[lc.star]))


def _truth_and_labels(field, pop, lcs, near) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for lc in lcs:
        s = lc.star
        params = pop.params[s]
        rows.append({
            "_id": _objectid(field, pop, lc), "ra": float(pop.objra[s]), "dec": float(pop.objdec[s]),
            "field": int(field), "ccd": int(pop.ccd[s]), "quad": int(pop.quad[s]), "band": int(lc.band),
            "class": str(pop.cls[s]), "period": float(params.get("period", np.nan)),
            "amplitude": lc.amplitude, "mean_mag": lc.mean_mag, "n_good": int(np.sum(lc.catflags == 0)),
            "near_bright_star": bool(near[s]),
            "labelled": str(pop.cls[s]) == NONVARIABLE or _visible(lc),
        })
    columns = ["_id", "ra", "dec", "field", "ccd", "quad", "band", "class", "period", "amplitude", "mean_mag",
               "n_good", "near_bright_star", "labelled"]
    truth = pd.DataFrame(rows, columns=columns).sort_values("_id", kind="stable").reset_index(drop=True)
    truth = truth.astype({"_id": "int64", "field": "int64", "ccd": "int64", "quad": "int64", "band": "int64",
                          "n_good": "int64", "near_bright_star": "bool", "class": "str", "labelled": "bool"})
    # Like a real labelled set (Fritz's golden set), labels.parquet holds only the light curves a
    # labeller could classify: every non-variable, and variables whose variability shows.
    confident = truth[truth["labelled"]].reset_index(drop=True)
    labels = pd.DataFrame({"ztf_id": confident["_id"], "ra": confident["ra"], "dec": confident["dec"]})
    for name in LABEL_NAMES:
        labels[name] = [1.0 if name in CLASSES[c].labels else 0.0 for c in confident["class"]]
    return truth, labels


#: a variable counts as visibly variable with at least this many clean points beyond 3 sigma
MIN_DEVIANT_POINTS = 10
NONVARIABLE = "nonvar"


def _visible(lc) -> bool:
    """Whether a labeller would see the variability: >= 10 clean points over 3 sigma from the median."""
    good = (lc.catflags == 0) & ~np.asarray(lc.outlier, dtype=bool)
    if good.sum() < 3:
        return False
    m, e = lc.mag[good], lc.magerr[good]
    return int(np.sum(np.abs(m - np.median(m)) > 3 * e)) >= MIN_DEVIANT_POINTS


def _targets(out, archive_name, catalogs_name, field, quadrants, bands):
    archive = out / archive_name
    folder = writer.field_folder(archive, field)
    files = [folder / writer.archive_file_name(field, b, c, q) for c, q in quadrants for b in bands]
    cats = [out / catalogs_name / f"{name}.parquet" for name in CATALOG_NAMES]
    return archive, folder, files, cats, archive / TRUTH_NAME, out / LABELS_NAME


def make_demo_sky(output_dir=".", *, field: int = 301, ccds=(1, 2), quads=(1, 2, 3, 4), n_per_quad: int = 150,
                  variable_fraction: float = 0.43, seed: int = 42, start_mjd: float = 58194.0, years: float = 3.0,
                  bands=("g", "r"), archive_name: str = "ztf_archive", catalogs_name: str = "catalogs",
                  force: bool = False, update_config: bool = True, config_path=None) -> DemoSky:
    """Write a synthetic ZTF field, its ancillary catalogs, truth and labels into ``output_dir``.

    Parameters
    ----------
    output_dir : path-like
        Working directory; created when missing.
    field : int
        ZTF field number (the demo's footprint is documented in :mod:`scope.demo.geometry`).
    ccds, quads : sequence of int
        CCDs (1-16) and quadrants (1-4) to fill; every combination is written.
    n_per_quad : int
        Objects per quadrant (each gets one light curve per band it is detected in).
    variable_fraction : float
        Share of variable objects (the rest are constant).
    seed : int
        Everything is a deterministic function of the seed and the other arguments.
    start_mjd, years : float
        First night and length of the survey.
    bands : sequence of str or int
        Filters, ``g``, ``r``, ``i`` (or 1, 2, 3).
    archive_name, catalogs_name : str
        Folder names inside ``output_dir`` for the light-curve archive and the catalogs.
    force : bool
        Overwrite an existing demo (and remove its stale quadrant files); without it, any
        existing output file is an error.
    update_config : bool
        Point the config file at the new data (other settings are kept; created when missing).
    config_path : path-like, optional
        Config file to update (default ``<output_dir>/config.yaml``); its paths are written
        relative to its own folder.

    Returns
    -------
    DemoSky

    Raises
    ------
    DataError
        Bad arguments, an unusable output directory, or existing files without ``force``.
    ConfigError
        An existing ``config.yaml`` that cannot be read.
    """
    started = time.perf_counter()
    field = int(field)
    ccds = sorted({int(c) for c in ccds})
    quads = sorted({int(q) for q in quads})
    band_ids = _band_ids(bands)
    _validate(field, ccds, quads, n_per_quad, variable_fraction, years, start_mjd)
    archive_name = _check_name(archive_name, "archive name")
    catalogs_name = _check_name(catalogs_name, "catalogs name")
    quadrants = [(c, q) for c in ccds for q in quads]

    out = _prepare_output(Path(output_dir))
    archive, folder, lc_files, cat_files, truth_path, labels_path = _targets(
        out, archive_name, catalogs_name, field, quadrants, band_ids)
    config_path = Path(config_path).expanduser() if config_path is not None else out / CONFIG_NAME
    if update_config and config_path.is_dir():
        raise DataError(f"config path is a folder, not a file: {config_path}")
    if update_config and config_path.exists():
        from scope.config import read_yaml

        read_yaml(config_path)  # fail now, before writing anything, if the user's config is broken
    planned = lc_files + cat_files + [truth_path, labels_path]
    existing = [p for p in planned if p.exists()] + writer.stale_demo_files(folder, field, set(lc_files))
    if existing and not force:
        raise DataError(f"{existing[0]} already exists ({len(existing)} demo file(s) in the way): "
                        "use --force to overwrite")

    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(6)]
    rng_schedule, rng_pop, rng_phot, rng_bright, rng_cat, rng_alert = streams
    ra0, dec0 = geometry.field_centre(field)
    schedule = simulate_schedule(rng_schedule, ra0, dec0, start_mjd, years, band_ids)
    pop = draw_population(rng_pop, field, quadrants, int(n_per_quad), float(variable_fraction))
    log.info("simulating %d objects x %d bands on %d exposures", len(pop), len(band_ids), len(schedule))
    lcs = _observe(rng_phot, schedule, pop, quadrants, band_ids)

    bright = brightstars.place_bright_stars(rng_bright, pop.objra, pop.objdec, max(1, round(len(pop) / 150)))
    epoch = 2000.0 + (start_mjd + years * 365.25 / 2 - 51544.5) / 365.25
    gaia = catalogs.gaia_table(rng_cat, pop, epoch, bright)
    near = brightstars.near_bright_star(pop.objra, pop.objdec, gaia["ra"], gaia["dec"], gaia["phot_g_mean_mag"],
                                        gaia["bp_rp"])
    tables = {
        "Gaia_EDR3": gaia,
        "AllWISE": catalogs.allwise_table(rng_cat, pop),
        "PS1_DR1": catalogs.ps1_table(rng_cat, pop),
        "ZTF_alerts": alerts_mod.alerts_table(rng_alert, pop, lcs, {b: pop.base_mag(b) for b in band_ids}),
    }
    truth, labels = _truth_and_labels(field, pop, lcs, near)

    written = _write_all(field, pop, lcs, lc_files, folder, tables, cat_files, truth, truth_path, labels,
                         labels_path, force, seed)
    cfg = None
    if update_config:
        cfg = _point_config(config_path, out / archive_name, out / catalogs_name)
        written.append(cfg)
    counts = {k: int(np.sum(pop.cls == k)) for k in CLASSES}
    sky = DemoSky(output_dir=out, archive_path=out / archive_name, catalogs_path=out / catalogs_name,
                  truth_path=truth_path, labels_path=labels_path, config_path=cfg, field=field, n_objects=len(pop),
                  n_lightcurves=len(lcs), n_exposures=len(schedule), class_counts=counts,
                  n_near_bright_star=int(near.sum()), files=written, seconds=time.perf_counter() - started)
    return sky


def _write_all(field, pop, lcs, lc_files, folder, tables, cat_files, truth, truth_path, labels, labels_path,
               force, seed) -> list[Path]:
    from scope.tables import write_table

    written = []
    if force:
        for stale in writer.stale_demo_files(folder, field, set(lc_files)):
            stale.unlink()
            log.info("removed stale demo file %s", stale)
    groups: dict[tuple[int, int, int], list[dict]] = {}
    for lc in lcs:
        s = lc.star
        key = (lc.band, int(pop.ccd[s]), int(pop.quad[s]))
        groups.setdefault(key, []).append({
            "objectid": _objectid(field, pop, lc), "filterid": lc.band, "fieldid": field,
            "rcid": int(ztf_ids.rc_from_ccd_quad(pop.ccd[s], pop.quad[s])), "objra": pop.objra[s],
            "objdec": pop.objdec[s], "hmjd": lc.hmjd, "mag": lc.mag, "magerr": lc.magerr,
            "clrcoeff": lc.clrcoeff, "catflags": lc.catflags,
        })
    for path in lc_files:
        # file name -> (band, ccd, quad); a quadrant with no detections still gets an (empty) file
        code, ccd, quad = path.name.split("_")[2:5]
        band = {v: k for k, v in writer.BAND_CODES.items()}[code]
        written.append(writer.write_archive_file(path, groups.get((band, int(ccd[1:]), int(quad[1:])), [])))
    for name, path in zip(CATALOG_NAMES, cat_files):
        written.append(write_table(tables[name], path))
    truth = truth.copy()
    truth.attrs = {"scope_demo": {"field": field, "seed": int(seed), "release_tag": writer.DEMO_RELEASE_TAG}}
    written.append(write_table(truth, truth_path))
    written.append(write_table(labels, labels_path))
    return written


def _point_config(config_path: Path, archive: Path, catalogs_dir: Path) -> Path:
    """Point ``data.*`` of the user's config at the demo (paths relative to the config's folder)."""
    from scope.config import update_user_config

    base = config_path.parent
    updates = {"data": {"source": "archive",
                        "archive_path": os.path.relpath(archive, base).replace(os.sep, "/"),
                        "catalogs_path": os.path.relpath(catalogs_dir, base).replace(os.sep, "/")}}
    return Path(update_user_config(config_path, updates))
