"""THE place where relationships and categories decide what a caller sees of a child.

Every read of child-related data asks this package: `relationships` computes, in SQL,
which rules connect an organisation to a child; `policy` turns rules into readable and
writable fields; `shape` drops every field outside them; `audit` records the read.
"""
