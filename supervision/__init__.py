"""Supervision of property companies by the sub-district office (notice clauses 20 and 21).

Companies, the projects (estates) they serve under contract, inspection records, the monthly credit evaluation
with its star levels, and red and black list entries.
"""
