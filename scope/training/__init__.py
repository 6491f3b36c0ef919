"""Training of the per-class binary classifiers (DNN and XGBoost), their model cards and scripts.

Nothing heavy is imported here: TensorFlow, XGBoost and wandb are imported inside the functions
that need them, so ``import scope.training`` stays cheap.

Main entry points
-----------------
- :func:`scope.training.train.train` -- train one class with one algorithm.
- :func:`scope.training.model_card.load_model_card`,
  :func:`scope.training.model_card.find_latest_model` -- what inference needs.
- :func:`scope.training.training_set.build_training_set` -- labels + feature files -> training set.
- :func:`scope.training.scripts.create_training_script` and
  :func:`scope.training.assemble.assemble_training_stats` -- the script and stats helpers.
"""
