"""Entry points that run the schedule: ``embedded`` (APScheduler, nothing to start by hand) and
``prefect_flows`` (Prefect flows, deployments and the worker). Thin: they call public service functions."""
