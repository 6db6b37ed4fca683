"""Renderers for people: console tables now; HTML / XLSX / JSON reports later (in Japanese)."""
