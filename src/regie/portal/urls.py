"""The portal for guardians and pupils of 16 and older, under ``/portaal/``.

Each part has its own module: accepting an invitation (:mod:`.account_urls`), the pages about a
child (:mod:`.child_urls`) and rights requests (:mod:`.request_urls`). The school's invitations
(``/school/uitnodigingen/``) and the privacy officer's queue (``/privacy/verzoeken/``) are
mounted by ``regie.urls`` from :mod:`.invite_urls` and :mod:`.office_urls`.
"""

from django.urls import include, path

app_name = "portal"

urlpatterns = [
    path("", include("regie.portal.child_urls")),
    path("", include("regie.portal.account_urls")),
    path("", include("regie.portal.request_urls")),
]
