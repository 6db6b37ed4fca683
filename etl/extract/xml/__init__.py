"""The xml source format: XML exports streamed record by record (docs/xml-sources.md)."""

from etl.extract.xml.extractor import XmlExtractor
from etl.extract.xml.options import XmlExtras, XmlOptions

__all__ = ["XmlExtractor", "XmlExtras", "XmlOptions"]
