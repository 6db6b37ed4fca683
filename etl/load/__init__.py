"""Writers: standard-layout CSV files, rejects, findings and the run manifest (atomic, 0600)."""

from etl.load.atomic import WrittenFile, sha256_file, staged_dir, write_bytes_atomic
from etl.load.csv_out import OUTPUT_ENCODINGS, CsvFormat, LineEnding, encode_csv, write_csv

__all__ = [
    "OUTPUT_ENCODINGS",
    "CsvFormat",
    "LineEnding",
    "WrittenFile",
    "encode_csv",
    "sha256_file",
    "staged_dir",
    "write_bytes_atomic",
    "write_csv",
]
