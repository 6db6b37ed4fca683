"""The delimited source format: CSV and TSV text (docs/source-profile.md).

Its framing (.framing: where records end) is also how chukan cuts its own V2.1 CSV files when
loading and packaging them (etl.write.csv_records), so one rule reads both.
"""

from etl.extract.delimited.extractor import DelimitedExtractor
from etl.extract.delimited.framing import CsvSyntax, Framing, frame_records, parse_record
from etl.extract.delimited.options import DelimitedExtras, DelimitedOptions

__all__ = [
    "CsvSyntax",
    "DelimitedExtractor",
    "DelimitedExtras",
    "DelimitedOptions",
    "Framing",
    "frame_records",
    "parse_record",
]
