"""The Fritz commands' work: labels in (download), classifications out (upload), annotations,
taxonomies, GCN-event sources, active-learning samples. Each module is one command's library
side; ``tools/`` holds the thin console scripts. The HTTP client is :mod:`scope.services.fritz`."""
