"""The pipeline framework, its steps, the per-kind pipelines and batch running."""
