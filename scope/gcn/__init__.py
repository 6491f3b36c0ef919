"""gcn-cronjob: the ZTF sources near new GCN events, classified and posted to Fritz, safe under cron.

The run (:mod:`scope.gcn.run`) calls the library of each step (scope-download-gcn-sources,
generate-features, run-inference, select-fritz-sample, combine-preds, scope-upload-classification),
never the console scripts. See docs/gcn.md.
"""

from scope.gcn.features import LocalFeatures, SlurmFeatures
from scope.gcn.paths import Layout
from scope.gcn.predict import load_model_groups
from scope.gcn.run import CronOptions, CronSetup, CronSummary, run_cronjob

__all__ = ["CronOptions", "CronSetup", "CronSummary", "Layout", "LocalFeatures", "SlurmFeatures",
           "load_model_groups", "run_cronjob"]
