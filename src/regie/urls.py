"""URL map. Which parts are served depends on ``REGIE_ROLE`` (hub, nummervoorziening, oversight
or all)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from regie.core import views as core_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("toegankelijkheid/", core_views.accessibility, name="accessibility"),
    path("admin/", admin.site.urls),
    # The second step of logging in: the admin site needs it too, so both deployables serve it.
    path("inloggen/tweede-stap/", include("regie.accounts.second_factor_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.ROLE in {"all", "hub"}:
    from django.contrib.auth import views as auth_views

    from regie.accounts.views import after_login
    from regie.gateway import launch, pupils
    from regie.gateway.gradebook import views as gradebook_views

    urlpatterns += [
        path("inloggen/", auth_views.LoginView.as_view(), name="login"),
        path("inloggen/", include("regie.accounts.urls")),
        path("uitloggen/", auth_views.LogoutView.as_view(), name="logout"),
        # The page about one pupil is the gateway's (channels, results), beside the roster's.
        path("school/leerlingen/<int:student_id>/gegevens/", pupils.pupil, name="pupil-data"),
        # The parents' and pupils' portal, the school's invitations, the privacy officer's queue.
        path("portaal/", include("regie.portal.urls")),
        path("school/uitnodigingen/", include("regie.portal.invite_urls")),
        path("privacy/verzoeken/", include("regie.portal.office_urls")),
        # Retention: rules, what is coming, legal holds, runs (and, with the helpers' parts,
        # contracts ending, legacy data, canaries).
        path("privacy/bewaren/", include("regie.retention.urls")),
        # A supplier registers its legacy named data and gets a conversion table (motion 9).
        path("retention/", include("regie.retention.legacy_urls")),
        # Oversight at the hub: the data-breach register, the signed aggregate reports, and a
        # supplier's breach report over the order channel.
        path("privacy/datalekken/", include("regie.oversight.incident_urls")),
        path("privacy/rapportages/", include("regie.oversight.report_urls")),
        path("oversight/", include("regie.oversight.api_urls")),
        path("school/", include("regie.roster.urls")),
        path("privacy/", include("regie.agreements.urls")),
        path("privacyverklaringen/", core_views.privacy_statements, name="privacy-statements"),
        path("oidc/", include("regie.gateway.urls")),
        path("ims/oneroster/rostering/v1p2/", include("regie.gateway.oneroster.urls")),
        path("ims/oneroster/gradebook/v1p2/", include("regie.gateway.gradebook.urls")),
        path("resultaten/", gradebook_views.results, name="results"),
        path("leermiddelen/", launch.tiles, name="tiles"),
        path("na-inloggen/", after_login, name="after-login"),
        # Orders to suppliers: the receipt endpoint and the privacy officer's pages.
        path("", include("regie.orders.urls")),
        # The provable audit log: published checkpoints, keys, proofs; an event's proof.
        path("", include("regie.transparency.urls")),
    ]

if settings.ROLE in {"all", "nummervoorziening"}:
    from regie.nummervoorziening.api import api as nummervoorziening_api
    from regie.nummervoorziening.soap import soap_endpoint

    urlpatterns += [
        path("nummervoorziening/api/v1/", nummervoorziening_api.urls),
        path("nummervoorziening/soap", soap_endpoint, name="nummervoorziening-soap"),
    ]

if settings.ROLE in {"all", "oversight"}:
    # The sector dashboard: a separate deployable; the demo serves it beside the hub.
    urlpatterns += [path("sector/", include("regie.sector.urls"))]
