"""The sector dashboard (``REGIE_ROLE=oversight``): a separate deployable that receives signed
aggregate reports from many hubs, verifies them against the hubs' registered keys, keeps no
personal data and shows supervisors (AP, Inspectie) the sector, its suppliers and its periods.
See ``docs/oversight.md``."""
