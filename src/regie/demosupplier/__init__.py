"""Demo suppliers: small, separate web applications that act as real OpenID Connect relying
parties of the hub ("Rekenwereld" and "Taalrijk", fictional), each on its own port.

Not a Django app (no models, not in ``INSTALLED_APPS``): the applications themselves
(:mod:`.app`, :mod:`.relyingparty`) know the hub only by its issuer URL and speak HTTP to it, as
a supplier would. Only :mod:`.registration`, run by ``regie demo``, uses the hub's services to
register their clients. See ``docs/demo-suppliers.md``.
"""
