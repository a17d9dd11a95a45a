"""Document processing for the built-in functions (ingest, render, bom).

Heavy libraries (PyMuPDF, OpenCV) are imported only by the modules that need them, never
by shared/ or the gateway.
"""
