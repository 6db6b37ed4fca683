"""Writing V2.1 files and run files: record files (CSV, or Parquet through the same
RecordFileWriter interface), rejects, findings; atomic and owner-only (0600).

Database loading (`chukan load`) is etl.dbload; this package never touches a database.
"""

from etl.write.atomic import (
    FILE_MODE,
    OwnerMarker,
    StagedFile,
    WrittenFile,
    copy_staged,
    make_private_dir,
    marker_is_stale,
    sha256_file,
    staged_dir,
    sweep_stale,
    write_bytes_atomic,
)
from etl.write.csv_out import (
    OUTPUT_ENCODINGS,
    CsvFormat,
    CsvSink,
    LineEnding,
    encode_csv,
    read_csv_columns,
    scan_csv_columns,
    write_csv,
)
from etl.write.csv_records import next_record_end, record_end
from etl.write.writers import (
    PARQUET_SUFFIX,
    CsvRecordWriter,
    OutputFormat,
    ParquetRecordWriter,
    ParquetSink,
    RecordFileWriter,
    RecordSink,
    record_file_writer,
)

__all__ = [
    "FILE_MODE",
    "OUTPUT_ENCODINGS",
    "PARQUET_SUFFIX",
    "CsvFormat",
    "CsvRecordWriter",
    "CsvSink",
    "LineEnding",
    "OutputFormat",
    "OwnerMarker",
    "ParquetRecordWriter",
    "ParquetSink",
    "RecordFileWriter",
    "RecordSink",
    "StagedFile",
    "WrittenFile",
    "copy_staged",
    "encode_csv",
    "make_private_dir",
    "marker_is_stale",
    "next_record_end",
    "read_csv_columns",
    "record_end",
    "record_file_writer",
    "scan_csv_columns",
    "sha256_file",
    "staged_dir",
    "sweep_stale",
    "write_bytes_atomic",
    "write_csv",
]
