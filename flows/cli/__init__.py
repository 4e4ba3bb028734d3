"""``qualitycycle``, the command line (``flows.cli.app``)."""
