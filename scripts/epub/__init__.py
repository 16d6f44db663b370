"""The EPUB edition."""
