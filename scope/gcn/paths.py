"""Where one event's files live (the reference's layout, under the project folder).

For an event at ``2023-05-21T05:30:43`` (``<d>`` = ``2023-05-21T05-30-43``)::

    fritzDownload/specific_ids_GCN_sources.<d>.parquet|.json      the light curves near its sources
    generated_features_GCN_sources/
        fg_sources/<d>_<batch>.parquet                            light curves still without features
        specific_ids/gcn_batch_<d>_<batch>_specific_ids.parquet   their features (merged into the next)
        specific_ids/gen_gcn_features_<d>_specific_ids.parquet    every light curve's features
        slurm/gcn_features.sub, logs/                             with --features-on slurm
    preds_<alg>/field_<d>_specific_ids/field_<d>_specific_ids.parquet
    GCN_<alg>/GCN_sources_<d>/GCN_sources_<d>.parquet             select-fritz-sample, one row per source
    GCN_dnn_xgb/<d>/merged_GCN_sources_<d>.parquet                combine-preds --merge-dnn-xgb
    GCN_dnn_xgb/<d>/post_GCN_sources_<d>.parquet                  the rows this run posts
    GCN_dnn_xgb/<d>/post_GCN_sources_<d>_fritzUpload_*, phot_plots/   the upload's results and plots
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scope.errors import ConfigError


@dataclass(frozen=True)
class Layout:
    """The folder names of a run (flags of gcn-cronjob)."""

    base: Path
    save_filename: str = "fritzDownload/specific_ids_GCN_sources"
    features_dirname: str = "generated_features_GCN_sources"
    dnn_directory: str = "GCN_dnn"
    xgb_directory: str = "GCN_xgb"
    combined_dirname: str = "GCN_dnn_xgb"

    def sample_directory(self, algorithm: str) -> str:
        """select-fritz-sample's ``al_directory`` for ``GCN_<alg>`` (the folder minus ``_<alg>``)."""
        folder = self.dnn_directory if algorithm == "dnn" else self.xgb_directory
        suffix = f"_{algorithm}"
        if not folder.endswith(suffix) or folder == suffix:
            flag = "--dnn-preds-directory" if algorithm == "dnn" else "--xgb-preds-directory"
            raise ConfigError(f"{flag} must end in '{suffix}' (select-fritz-sample writes <name>{suffix}), "
                              f"got '{folder}'")
        return folder[: -len(suffix)]

    @property
    def features_root(self) -> Path:
        return self.base / self.features_dirname

    @property
    def slurm_dir(self) -> Path:
        return self.features_root / "slurm"

    def event(self, save_name: str) -> "EventPaths":
        return EventPaths(self, save_name)


@dataclass(frozen=True)
class EventPaths:
    """The files of one event (see the module docstring)."""

    layout: Layout
    save: str

    @property
    def ids(self) -> Path:
        return self.layout.base / f"{self.layout.save_filename}.{self.save}.parquet"

    @property
    def features(self) -> Path:
        return self.layout.features_root / "specific_ids" / f"gen_gcn_features_{self.save}_specific_ids.parquet"

    @property
    def features_filename(self) -> str:
        """generate-features ``--filename`` of the event's file."""
        return f"gen_gcn_features_{self.save}"

    def batch_key(self, digest: str) -> str:
        return f"{self.save}_{digest}"

    def batch_ids(self, key: str) -> Path:
        return self.layout.features_root / "fg_sources" / f"{key}.parquet"

    @staticmethod
    def batch_filename(key: str) -> str:
        """generate-features ``--filename`` of a batch."""
        return f"gcn_batch_{key}"

    def batch_features(self, key: str) -> Path:
        return self.layout.features_root / "specific_ids" / f"{self.batch_filename(key)}_specific_ids.parquet"

    def stale_batches(self) -> list[Path]:
        """Batch feature files of this event left by a run stopped before merging them."""
        folder = self.layout.features_root / "specific_ids"
        return sorted(folder.glob(f"gcn_batch_{self.save}_*_specific_ids.parquet")) if folder.is_dir() else []

    @property
    def field(self) -> str:
        """run-inference ``--field`` (and select-fritz-sample ``--fields``) of the event."""
        return f"{self.save}_specific_ids"

    def predictions(self, algorithm: str) -> Path:
        return self.layout.base / f"preds_{algorithm}" / f"field_{self.field}" / f"field_{self.field}.parquet"

    @property
    def sample_name(self) -> str:
        return f"GCN_sources_{self.save}"

    @property
    def event_dir(self) -> Path:
        return self.layout.base / self.layout.combined_dirname / self.save

    @property
    def merged(self) -> Path:
        return self.event_dir / f"merged_{self.sample_name}.parquet"

    @property
    def to_post(self) -> Path:
        return self.event_dir / f"post_{self.sample_name}.parquet"
