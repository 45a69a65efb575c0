"""The home school's DfE attendance codes for a provider's session marks.

An attended session (present, or late: a late arrival is still attendance) is recorded by
the home school with the code of the arrangement: `K` for AP arranged by the local
authority, `B` for off-site education arranged by the school, `D` when the child is dual
registered (the provider is the subsidiary registration). Absences take the DfE absence
codes: `C` authorised (other authorised circumstances), `O` unauthorised, and `X` for a
session the child was not required to attend.
"""

from __future__ import annotations

ATTENDED = frozenset({"present", "late"})
ABSENCE_CODES = {"absent_authorised": "C", "absent_unauthorised": "O", "not_required": "X"}

# The arrangement's code for attended sessions, over placement `p` and its commissioner
# `comm` (the same rule as the placement's `attendance_code`).
ARRANGEMENT_CODE_SQL = (
    "CASE WHEN p.dual_registered THEN 'D' WHEN comm.type = 'local_authority' THEN 'K' ELSE 'B' END"
)


def arrangement_code(*, dual_registered: bool, commissioner_type: str) -> str:
    if dual_registered:
        return "D"
    return "K" if commissioner_type == "local_authority" else "B"


def dfe_code(mark: str, arrangement: str) -> str:
    """The code the home school records for this mark."""
    return arrangement if mark in ATTENDED else ABSENCE_CODES[mark]
