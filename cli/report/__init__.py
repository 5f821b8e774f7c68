"""`appstore-archive report`: one self-contained HTML file (queries → data → charts → page)."""
