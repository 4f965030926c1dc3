"""1EdTech OneRoster 1.2 rostering for suppliers: the Rostering Service REST/JSON binding 1.2
(1EdTech, "OneRoster Rostering Service REST/JSON Binding", version 1.0, 19 September 2022) —
its endpoints and object shapes (orgs, schools, academicSessions, classes, users, students,
teachers, enrollments, demographics), pagination, sorting, filtering and field selection — with
the security of the 1EdTech Security Framework 1.1 (OAuth 2.0 client credentials, the scopes
``roster-core.readonly`` and ``roster-demographics.readonly``).

- :mod:`.grant` — the client-credentials grant at the hub's token endpoint (Authlib's);
- :mod:`.release` — what one supplier may see (licences, release policy, pseudonyms, keyed ids);
- :mod:`.query` — paging, sorting, the basic filter syntax and field selection;
- :mod:`.errors` — the ``imsx_StatusInfo`` error payload and its code-minor values;
- :mod:`.api` — the django-ninja endpoints; :mod:`.schemas` — their shapes for OpenAPI.

What is supported and where regie deviates from the binding: ``docs/oneroster-rest.md``.
"""
