"""Reports: tables and files made from a study's records (the last step of the data flow)."""
