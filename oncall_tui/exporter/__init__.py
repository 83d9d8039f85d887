"""`mlcall-tui exporter`: the metrics the monitoring pack's rules alert on, read at scrape time.

Sources (each a small module, imported lazily): the MLflow registry (`mlflow_source`), DVC metrics of
configured repositories (`dvc_source`), training Jobs in Kubernetes (`jobs_source`). `collector` reads
them concurrently, each bounded by a timeout and cached for a TTL, and adds the exporter's own health;
`main` serves `/metrics` or pushes once to a Pushgateway. Nothing here imports the UI.
"""
