"""scope-demo-report: score a field's predictions against the demo sky's truth and draw two plots.

Every number and picture uses the held-out light curves only (labelled ones that are not in
``--exclude-training-set``). Classes whose scores never pass ``--threshold`` are flagged with the
best threshold their model card records for the validation split.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scope import cli

log = logging.getLogger("tools.scope_demo_report")


def get_parser():
    p = cli.build_parser("scope-demo-report", "Precision, recall and ROC AUC per class of a field's predictions "
                         "against the demo truth (labels.parquet), a confusion-matrix PNG and phase-folded "
                         "light curves of top-scored sources, all on held-out light curves.")
    p.add_argument("--predictions", required=True, nargs="+",
                   help="prediction parquet files (preds_<alg>/field_<F>/field_<F>.parquet or combined)")
    p.add_argument("--labels", default="labels.parquet", help="demo truth labels (scope-demo-data writes it)")
    p.add_argument("--exclude-training-set", default=None,
                   help="training set whose ztf_id rows are left out of every table and plot (held-out evaluation)")
    p.add_argument("--features", default="generated_features", help="feature files (for the periods of the plots)")
    p.add_argument("--threshold", type=float, default=0.5, help="score above which a prediction is positive")
    p.add_argument("--headline", nargs="+", default=["vnv", "pnp"], help="classes of the confusion-matrix plot")
    p.add_argument("--fold-class", default="rrlyr", help="class whose top-scored sources are phase-folded")
    p.add_argument("--n-folded", type=int, default=4, help="how many top-scored light curves are folded")
    p.add_argument("--output-dir", default="report", help="where report.md and the PNGs go")
    return p


def _body(args) -> int:
    import pandas as pd

    from scope.demo import report
    from scope.lightcurves.sources import open_source
    from scope.tables import ensure_writable_dir, read_table

    cfg = cli.load_config_for(args)
    out = ensure_writable_dir(Path(args.output_dir))
    classes = cfg["training"]["classes"]
    frames = [read_table(p) for p in args.predictions]
    preds = frames[0]
    for other in frames[1:]:
        new = [c for c in other.columns if c not in preds.columns or c == "_id"]
        preds = preds.merge(other[new], on="_id", how="outer")
    labels = read_table(args.labels)
    exclude = []
    notes = [f"Predictions: {', '.join(args.predictions)}."]
    if args.exclude_training_set:
        exclude = read_table(args.exclude_training_set)["ztf_id"].astype("int64").tolist()
        notes.append(f"Light curves of the training set ({len(exclude)}) are left out of every table and plot: "
                     "held-out scores only.")
    table = report.score_predictions(preds, labels, classes, threshold=args.threshold, exclude_ids=exclude)
    flags = report.never_reaching(table, report.model_cards(frames), args.threshold)
    report.plot_confusions(preds, labels, classes, args.headline, out / "confusion_matrices.png",
                           threshold=args.threshold, exclude_ids=exclude)
    extra = []
    features = report.load_features(Path(args.features)) if Path(args.features).exists() else pd.DataFrame()
    for alg in ("xgb", "dnn"):
        col = f"{args.fold_class}_{alg}"
        if col in preds.columns and len(features):
            label = (classes.get(args.fold_class) or {}).get("label")
            path, text = report.plot_top_phase_folded(preds, features, open_source(cfg), col,
                                                      out / f"top_{col}_folded.png", n=args.n_folded, labels=labels,
                                                      exclude_ids=exclude, label=label)
            if path is not None:
                extra.append(text)
            break
    path = report.write_report(table, out / "report.md", threshold=args.threshold, notes=notes, flags=flags,
                               extra=extra)
    log.info("report: %s; written to %s (and PNGs beside it)", report.summary_line(table, flags), path)
    return 0


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
