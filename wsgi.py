"""WSGI entry point: `gunicorn wsgi:app` or any WSGI server."""
import gc

from coordinator import create_app

app = create_app()
gc.freeze()  # as `coordinator serve` does: what the app made at start is kept out of the collector's full sweeps
