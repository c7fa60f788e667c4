"""The across-cell leaderboard (``python -m benchmark board``, issue 24): the grid's records as arrays (``inputs``),
the statistics (``analysis``), ``board.tables.json`` typed (``tables_file``), the Markdown/CSV (``markdown``), the
figures (``plots``) and the files (``writer``)."""
