"""Survey-scale runs on Slurm: one Slurm layer, the script generators and the submission loops.

- :mod:`scope.hpc.jobspec`: a job's resources and commands (:class:`JobSpec`) rendered to a batch script;
- :mod:`scope.hpc.slurm`: the only code that runs ``sbatch``/``squeue``/``scontrol``/``sacct``/``scancel``
  (time-outs, retries of transient failures, refused submissions reported by name);
- :mod:`scope.hpc.presets`: cluster presets (module lines, partitions) from the config;
- :mod:`scope.hpc.passthrough`: a target command's own flags, parsed and written back into job lines;
- :mod:`scope.hpc.ledger`, :mod:`scope.hpc.loop`: the rerunnable submission loop (job ids, states from
  Slurm, retries, throttling);
- :mod:`scope.hpc.quadrants`: populated quadrants and their sizes (``check-quads-for-sources``,
  the quadrant file);
- one module per command family: :mod:`scope.hpc.features`, :mod:`scope.hpc.training`,
  :mod:`scope.hpc.inference`, :mod:`scope.hpc.combine`.

Nothing here reads standard input, and no script it writes holds a secret.
"""
