"""Routes of a deterioration at home, and the care uniforms each deterioration carries.

The routes are the words a care system answers the engine with: care decides the route, the
engine runs it (an ED visit, an admission, a home visit) and writes the event log.
"""

ED_ADMIT, ED_ONLY, DIRECT_ADMIT, NURSE, PRIMARY, TEAM_HOME, PLAN_NURSE, PREVENTED = range(8)
ADMITTED = (ED_ADMIT, DIRECT_ADMIT)

# Care uniform slots of one deterioration (never renumber: results depend on them).
U_ED, U_ADMIT, U_LOS, U_STC, U_LAG, U_RELAPSE, U_RELAPSE_TIME, U_PREVENT, U_HOME, U_NURSE = range(10)
N_SLOTS = 10
#: The hospital-at-home decision of an admission (sim/care/concepts/mobile_team.py) reuses U_NURSE:
#: today's routing draws it only for a deterioration that goes neither to the ED nor to a bed.
U_HOSPITAL_AT_HOME = U_NURSE
