"""The print edition: the assembled print document and its WeasyPrint rendering."""
