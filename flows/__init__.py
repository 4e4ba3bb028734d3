"""The application edge: service functions over domain, state machines and storage, the CLI,
the demo, the scenario helper for tests, and (thinly) the Prefect flows that wrap them."""
