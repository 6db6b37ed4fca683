"""Writing V2.1 files and run files: standard-layout CSV, rejects, findings (atomic, 0600).

Database loading (`chukan load`) is etl.dbload; this package never touches a database.
"""

from etl.write.atomic import WrittenFile, sha256_file, staged_dir, write_bytes_atomic
from etl.write.csv_out import OUTPUT_ENCODINGS, CsvFormat, LineEnding, encode_csv, write_csv

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
