"""Supervision of property companies by the sub-district office (notice clauses 20 and 21).

Companies, the projects (estates) they serve under contract, inspection records, the monthly credit evaluation
with its star levels, and red and black list entries. The board reads ``current_project``.
"""

from supervision.projects import ProjectView, company_at, current_project

__all__ = ["ProjectView", "company_at", "current_project"]
