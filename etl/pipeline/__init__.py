"""A job end to end: extract, map, validate, write (run_job)."""

from etl.pipeline.job import DEFAULT_CHUNK_RECORDS, JobOptions, JobResult, run_job
from etl.pipeline.sources import ExtractedSource

__all__ = ["DEFAULT_CHUNK_RECORDS", "ExtractedSource", "JobOptions", "JobResult", "run_job"]
