"""The words staff pages show for the decision's closed vocabulary: routes, pathways and
safeguarding levels, once for the audit pages, the worklist and the console alike.

Keys are the schema's values (spoa.vocabulary.routes(), pathways(), SAFEGUARDING_LEVELS; a test
checks they match), in the order lists and charts show them.
"""
from __future__ import annotations

ROUTE_LABELS = {
    "emergency": "Emergency (999)",
    "rapid_response": "Rapid response",
    "mdt": "Multi-disciplinary team",  # the protocol's spelling
    "voluntary_sector": "Voluntary sector",
    "self_care": "Self-care and information",
    "out_of_scope": "Out of scope",
}
PATHWAY_LABELS = {
    "ambulance": "Ambulance", "police": "Police", "ucr": "Urgent community response",
    "mental_health_crisis": "Mental health crisis", "complex_care": "Complex care",
    "care_act_assessment": "Care Act assessment", "carer_assessment": "Carer's assessment",
    "end_of_life": "End of life", "post_discharge": "After hospital discharge", "safeguarding": "Safeguarding",
    "community_support": "Community support", "information": "Information and advice",
    "children_services": "Children's services", "other_area": "Another area",
}
SAFEGUARDING_LABELS = {"none": "None", "concern": "Concern", "referral": "Referral", "urgent": "Urgent"}
