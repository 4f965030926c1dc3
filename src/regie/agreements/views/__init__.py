"""The register's pages, for privacy officers and admins (and the public privacy statement).

- :mod:`.register` — suppliers, products, DPIA screenings, agreements, schedules and offers;
- :mod:`.school` — licences, switches, consent records, the participation council;
- :mod:`.code` — agreements as YAML/JSON (privacy as code): export and import;
- :mod:`.documents` — the privacy statement per school and the art. 30 register.

Thin, as everywhere: authenticate and authorise with :mod:`.common`, load, call a service, render.
"""
