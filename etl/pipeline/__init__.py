"""A job end to end: extract, map, validate, write (run_job)."""

from etl.pipeline.engines import MAX_WORKERS, EngineError
from etl.pipeline.job import DEFAULT_CHUNK_RECORDS, JobOptions, JobResult, run_job
from etl.pipeline.sources import ExtractedSource

__all__ = [
    "DEFAULT_CHUNK_RECORDS",
    "MAX_WORKERS",
    "EngineError",
    "ExtractedSource",
    "JobOptions",
    "JobResult",
    "run_job",
]
