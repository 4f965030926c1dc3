"""Agreements as code: download an agreement (or a published offer) as YAML or JSON, and import
one from a file as a draft agreement of a board — or, for superusers, publish it as an offer.

The format and its rules are in :mod:`regie.agreements.privacy_as_code`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from regie.core.models import Board
from regie.roster import services as roster

from .. import privacy_as_code, services
from ..models import ProcessingAgreement
from .common import agreement_or_404, board_register_page, register_page, user_of

FORMATS = {
    "yaml": ("application/yaml; charset=utf-8", privacy_as_code.to_yaml),
    "json": ("application/json; charset=utf-8", privacy_as_code.to_json),
}


@register_page
def agreement_export(request: HttpRequest, agreement_id: int, fmt: str) -> HttpResponse:
    """A published offer for every register user; a board's agreement for its board editors."""
    if fmt not in FORMATS:
        raise Http404
    offer = services.offers().filter(pk=agreement_id).first()
    if offer is not None:
        agreement = offer
    elif roster.access_for(user_of(request)).edits_board_register():
        agreement = agreement_or_404(request, agreement_id)
    else:
        raise PermissionDenied
    content_type, write = FORMATS[fmt]
    response = HttpResponse(write(agreement), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_name(agreement, fmt)}"'
    return response


def export_name(agreement: ProcessingAgreement, fmt: str) -> str:
    """From the agreement's id and version only: never from names of people or the supplier."""
    kind = "aanbod" if agreement.is_offer else "verwerkersovereenkomst"
    version = slugify(agreement.version.replace(".", "-"))[:30] or "1"
    return f"{kind}-{agreement.pk}-v{version}.{fmt}"


class ImportForm(forms.Form):
    board = forms.ModelChoiceField(
        label=gettext_lazy("Schoolbestuur"), queryset=Board.objects.none(), required=False
    )
    file = forms.FileField(
        label=gettext_lazy("Bestand (YAML of JSON)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,.json"}),
    )
    publish = forms.BooleanField(
        label=gettext_lazy("Als aanbod publiceren"),
        required=False,
        help_text=gettext_lazy(
            "Zonder schoolbestuur: een aanbod van de leverancier dat elk bestuur kan overnemen."
        ),
    )

    def __init__(self, *args: Any, boards: Any, may_publish: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        board = self.fields["board"]
        if isinstance(board, forms.ModelChoiceField):
            board.queryset = boards
            board.empty_label = None
        if not may_publish:
            del self.fields["publish"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if not cleaned.get("publish") and cleaned.get("board") is None:
            self.add_error("board", _("Kies het schoolbestuur."))
        upload = cleaned.get("file")
        if upload is not None and upload.size > privacy_as_code.MAX_BYTES:
            self.add_error(
                "file",
                _("Het bestand is groter dan %(size)s KiB.")
                % {"size": privacy_as_code.MAX_BYTES // 1024},
            )
        return cleaned


@board_register_page
def agreement_import(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    boards = services.editable_boards(user)
    form = ImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        boards=boards,
        may_publish=user.is_superuser,
    )
    problems: tuple[privacy_as_code.Problem, ...] = ()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            document = privacy_as_code.parse(
                upload.read(privacy_as_code.MAX_BYTES + 1), name=upload.name or "upload"
            )
            if form.cleaned_data.get("publish"):
                offer = privacy_as_code.publish_offer(document, user=user)
                messages.success(request, _("Het aanbod is gepubliceerd."))
                return redirect("agreements:offer", agreement_id=offer.pk)
            agreement = privacy_as_code.import_agreement(
                document, form.cleaned_data["board"], user=user
            )
        except privacy_as_code.DocumentRefused as error:
            problems = error.problems
        else:
            messages.success(request, _("De verwerkersovereenkomst is als concept ingelezen."))
            return redirect("agreements:agreement", agreement_id=agreement.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "agreements/import.html",
        {"form": form, "problems": problems},
        status=status,
    )
