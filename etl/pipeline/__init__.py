"""A job end to end: extract, map, validate, write (run_job)."""

from etl.pipeline.job import JobOptions, JobResult, run_job
from etl.pipeline.sources import ExtractedSource

__all__ = ["ExtractedSource", "JobOptions", "JobResult", "run_job"]
