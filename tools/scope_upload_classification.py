"""scope-upload-classification: post classifications (with sources, photometry, periods, comments) to Fritz.

Example::

    scope-upload-classification --file preds_dnn_xgb/merged_field_301.parquet --group-ids 4 \\
        --classification read --taxonomy-map fritz_mapper.json --p-threshold 0.7 --write-obj-id
"""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.scope_upload_classification")

DESCRIPTION = """Upload the classifications of a table (one row per source or light curve, columns of
probabilities named like the keys of --taxonomy-map) to Fritz groups. Each row's source is found by obj_id
(--use-existing-obj-id) or position, or created from the light curves at its position (photometry from the
local archive or Kowalski); classifications already on the source in every target group, existing annotations
and comments with the same text are not posted again. Progress is logged as rows finish
(<result-dir>/<input>_<result-filetag>_log.jsonl): an interrupted upload resumes where it stopped, and a second
run of a finished upload sends nothing."""


def get_parser():
    p = cli.build_parser("scope-upload-classification", DESCRIPTION)
    p.add_argument("--file", required=True, help="table of sources (.parquet, .h5 or .csv) with ra, dec, period "
                                                 "and probability columns")
    p.add_argument("--group-ids", type=int, nargs="+", required=True, help="target Fritz group ids")
    p.add_argument("--classification", nargs="+", default=["read"],
                   help="probability columns to upload (mapper keys), or 'read' for every mapper key in the file")
    p.add_argument("--taxonomy-map", default="golden_dataset_mapper.json",
                   help="taxonomy mapper JSON (a path, or a mapper name in the current folder, the config's folder or "
                        "shipped with SCoPe: fritz_mapper.json, DNN_AL_mapper.json, XGB_AL_mapper.json)")
    p.add_argument("--comment", default=None, help="comment to post on each uploaded source")
    p.add_argument("--start", type=int, default=None, help="first row to upload (0-based)")
    p.add_argument("--stop", type=int, default=None, help="last row to upload (inclusive)")
    p.add_argument("--classification-origin", default="SCoPe",
                   help="origin of the classifications ('SCoPe' gets Fritz's ML colour coding)")
    p.add_argument("--skip-phot", type=cli.str2bool, nargs="?", const=True, default=False,
                   help="do not upload photometry of sources that already exist (new sources always get it)")
    p.add_argument("--post-survey-id", action="store_true",
                   help="post the row's Gaia/AllWISE/PS1 id (survey_id) as an annotation")
    p.add_argument("--survey-id-origin", default="SCoPe_xmatch", help="annotation origin of the survey id")
    p.add_argument("--p-threshold", type=float, default=0.0,
                   help="post classes with probability >= this (0: every class above 0)")
    p.add_argument("--match-ids", action="store_true",
                   help="prefer the nearby Fritz source whose survey-id annotation names the row's survey_id")
    p.add_argument("--use-existing-obj-id", action="store_true",
                   help="use the Fritz source named in the obj_id column instead of searching by position")
    p.add_argument("--post-upvote", action="store_true", help="up-vote each posted classification")
    p.add_argument("--check-labelled-box", action="store_true",
                   help="mark each source 'labelled' in the target groups when posting (and replacing)")
    p.add_argument("--write-obj-id", action="store_true",
                   help="write a copy of the input with an obj_id column (<result-dir>/<input>_<result-filetag>.<fmt>)")
    p.add_argument("--result-dir", default="fritzUpload", help="folder of the results, progress log and plots")
    p.add_argument("--result-filetag", default="fritzUpload", help="tag appended to the result file names")
    p.add_argument("--result-format", default="parquet", help="parquet, h5 or csv")
    p.add_argument("--replace-classifications", action="store_true",
                   help="delete the source's classifications in the target groups before posting")
    p.add_argument("--radius-arcsec", type=float, default=2.0,
                   help="search radius for existing Fritz sources and for light curves")
    p.add_argument("--no-ml", action="store_true", help="mark the classifications as not from an ML classifier")
    p.add_argument("--post-phot-as-comment", type=cli.str2bool, nargs="?", const=True, default=False,
                   help="post a plot of the light curves as a comment")
    p.add_argument("--post-phasefolded-phot", type=cli.str2bool, nargs="?", const=True, default=False,
                   help="also post the light curves folded at the row's period")
    p.add_argument("--phot-dirname", default="phot_plots", help="folder (inside --result-dir) for the plots")
    p.add_argument("--instrument-name", default="ZTF", help="Fritz instrument of the photometry")
    p.add_argument("--batch-rows", type=int, default=10, help="rows whose classifications are posted in one request")
    p.add_argument("--restart", action="store_true",
                   help="ignore the progress of earlier runs and check every row against Fritz again")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.errors import QueryError
    from scope.fritz.upload import UploadOptions, upload_classifications
    from scope.services.fritz import client_from_config

    cfg = cli.load_config_for(args)
    opts = UploadOptions(
        file=args.file, group_ids=args.group_ids, classification=args.classification, taxonomy_map=args.taxonomy_map,
        comment=args.comment, start=args.start, stop=args.stop, classification_origin=args.classification_origin,
        skip_phot=args.skip_phot, post_survey_id=args.post_survey_id, survey_id_origin=args.survey_id_origin,
        p_threshold=args.p_threshold, match_ids=args.match_ids, use_existing_obj_id=args.use_existing_obj_id,
        post_upvote=args.post_upvote, check_labelled_box=args.check_labelled_box, write_obj_id=args.write_obj_id,
        result_dir=args.result_dir, result_filetag=args.result_filetag, result_format=args.result_format,
        replace_classifications=args.replace_classifications, radius_arcsec=args.radius_arcsec, no_ml=args.no_ml,
        post_phot_as_comment=args.post_phot_as_comment, post_phasefolded_phot=args.post_phasefolded_phot,
        phot_dirname=args.phot_dirname, instrument_name=args.instrument_name, batch_rows=args.batch_rows,
        restart=args.restart)
    client = client_from_config(cfg)
    s = upload_classifications(cfg, opts, client, progress=not args.quiet)
    log.info("%d rows (%d finished earlier): %d sources created, %d existing; %d classifications posted, %d already "
             "there, %d deleted; %d annotations, %d comments, %d photometry points; %d Fritz requests in %.1f s%s",
             s.rows, s.rows_skipped_done, s.sources_created, s.sources_existing, s.classifications_posted,
             s.classifications_present, s.classifications_deleted, s.annotations_posted, s.comments_posted,
             s.photometry_points, s.requests, s.seconds, f" -> {s.files[0]}" if s.files else "")
    if s.rows_failed:
        raise QueryError(f"{s.rows_failed} rows could not be uploaded (see {s.files[0]}); run again to retry them")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
