"""The HTTP reader: the active-users API, its CSV export, health probes and /metrics.

`create_reader_app(settings)` builds the FastAPI app; `serve(settings, host, port)` runs it
on uvicorn. Every count comes from `streams.report`, the code path `insights query` uses too.
"""
