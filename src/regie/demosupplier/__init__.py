"""Demo suppliers: small, separate web applications that act as real OpenID Connect relying
parties of the hub ("Rekenwereld" and "Taalrijk", fictional), each on its own port.

Not a Django app (no models, not in ``INSTALLED_APPS``): the applications themselves
(:mod:`.app`, :mod:`.relyingparty`) know the hub only by its issuer URL and speak HTTP to it, as
a supplier would: this package imports nothing of regie but :mod:`regie.lib`. Registering their
clients at the hub is ``regie demo``'s work (:mod:`regie.ops.supplier_registration`). See
``docs/demo-suppliers.md``.
"""
