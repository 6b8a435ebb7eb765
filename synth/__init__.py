"""The `Problem` record, pool I/O, the spec language and SMT generation engine, and grading.

The bottom layer of veriforge: it imports nothing else of ours.
"""
