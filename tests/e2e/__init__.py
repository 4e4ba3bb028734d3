"""End-to-end tests: the product as people and operations meet it: the command line (in-process and the
installed script), the hostile-input catalogue, the embedded runner, Prefect for real, the README's example."""
