"""Moving between layout versions: layouts imported from a spec workbook into a version folder
(``write_imported``), and a finished run converted into another version (``convert_run``,
driven by a conversion spec, ``layouts/conversions/<from>--<to>.yaml``)."""

from etl.convert.compare import GyomuDiff, Rename, diff_versions, versions_diff_dict
from etl.convert.imported import LayoutImportError, format_version, write_imported
from etl.convert.run import (
    ADDED_EMPTY_RULE,
    CONVERSION_FILE,
    REMOVED,
    UNMAPPED_CODE_RULE,
    ConversionResult,
    ConvertedFile,
    ConvertError,
    convert_run,
)
from etl.convert.spec import (
    ConversionError,
    ConversionSpec,
    ConversionSpecModel,
    FilePlan,
    check_spec,
    default_spec_path,
    load_spec,
)

__all__ = [
    "ADDED_EMPTY_RULE",
    "CONVERSION_FILE",
    "REMOVED",
    "UNMAPPED_CODE_RULE",
    "ConversionError",
    "ConversionResult",
    "ConversionSpec",
    "ConversionSpecModel",
    "ConvertError",
    "ConvertedFile",
    "FilePlan",
    "GyomuDiff",
    "LayoutImportError",
    "Rename",
    "check_spec",
    "convert_run",
    "default_spec_path",
    "diff_versions",
    "format_version",
    "load_spec",
    "versions_diff_dict",
    "write_imported",
]
