"""Oversight reports: the questions a local authority asks every morning, answered by the
hub from the records it holds, each read through the sharing layer and audited.

A report is one declaration (`declaration.Report`): its name, its definition in words,
the filters it takes, its columns and the statement that yields its rows, already
restricted to what the caller may see. `machinery` serves every report the same way
(JSON or CSV, cursor pages, the audit of the children named); `endpoints` makes one
endpoint of each.
"""
