"""``python -m scope.gcn``: gcn-cronjob for cron lines that name the interpreter (see docs/gcn.md)."""

from tools.gcn_cronjob import main

raise SystemExit(main())
