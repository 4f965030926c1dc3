"""A guardian makes their portal login with the link of an invitation (``/portaal/uitnodiging/``).

The link's secret is in the first URL only: that view keeps it in the session and sends the
browser on to the form, whose URL holds no secret (as Django's password reset does), so that it
reaches no log line, browser history or ``Referer`` after the first request.
"""

from django.urls import path

from .views import account

urlpatterns = [
    path("uitnodiging/account-maken/", account.accept_form, name="accept-form"),
    path("uitnodiging/<str:token>/", account.accept, name="accept"),
]
