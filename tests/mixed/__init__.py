"""One 業務 from a fixed-width dump, an XML export and a setup workbook in one profile."""
