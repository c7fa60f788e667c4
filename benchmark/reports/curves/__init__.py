"""Annotation budget and quality curves (``curves STUDY``): reads a study's records, writes
``results/curves/STUDY/{curves.md, curves.json, curve_*.png}``. ``frame``: records -> points on annotation axes;
``plot``: one figure per metric, cell and axis; ``report``: validation, tables, JSON, the atomic write."""
