"""The application around the domain, in layers (arrows point at what a layer may import):

- ``flows.cli`` and ``flows.runners`` (entry points: the command line, the embedded APScheduler runner, the
  Prefect flows) translate and call ``flows.services``; nothing below imports them.
- ``flows.services``: the application's API, plain functions that take the moment, over ``domain``,
  ``statemachines``, ``storage`` and ``notifications``; ``flows.schedule`` declares when each duty runs.
- ``flows.testing``: the scenario helper, the demo and the sample files, for tests and for trying the product.
"""
