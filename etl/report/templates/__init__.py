"""The fixed parts of the HTML report (style sheet, script), kept as Python strings.

Python modules rather than .css/.js files: they ship in the wheel with no package-data setup,
and the report inlines them (it must open offline, with no external resources).
"""

from etl.report.templates.assets import SCRIPT, STYLE

__all__ = ["SCRIPT", "STYLE"]
