"""Every field of a regie model carries a data category: the taxonomy and its system check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

import pytest
from django.apps import apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.test.utils import isolate_apps

from regie.audit.models import AuditEvent
from regie.core import datacategories
from regie.core.checks import check_data_categories, check_models, describe_model, regie_models
from regie.core.datacategories import NOT_PERSONAL, TAXONOMY, DataCategory, NotPersonal

Categories = Mapping[str, DataCategory | NotPersonal]


class IsolatedModel(models.Model):
    """The base of the models defined inside the tests (in the isolated app ``regie_test``)."""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


def error_ids(model: type[models.Model]) -> list[str]:
    return [str(message.id) for message in check_models([model])]


@isolate_apps()
def test_it_passes_a_model_whose_every_field_has_a_category() -> None:
    class School(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = False
        name = models.CharField(max_length=100)

        class Meta:
            app_label = "regie_test"

    class Pupil(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = True
        DATA_CATEGORIES: ClassVar[Categories] = {
            "id": datacategories.UNIQUE_ID,
            "school": datacategories.ENROLMENT,
            "roepnaam": datacategories.FIRST_NAME,
            "care_notes": datacategories.CARE,
            "classmates": datacategories.ENROLMENT,
            "created_at": NOT_PERSONAL,
        }
        school = models.ForeignKey(School, on_delete=models.CASCADE)
        roepnaam = models.CharField(max_length=100)
        care_notes = models.TextField()
        classmates = models.ManyToManyField("self")
        created_at = models.DateTimeField()

        class Meta:
            app_label = "regie_test"

    assert check_models([School, Pupil]) == []


@isolate_apps()
def test_it_reports_e001_for_a_field_without_a_category() -> None:
    class Pupil(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = True
        DATA_CATEGORIES: ClassVar[Categories] = {"id": datacategories.UNIQUE_ID}
        birth_date = models.DateField()

        class Meta:
            app_label = "regie_test"

    [message] = check_models([Pupil])
    assert message.id == "regie.E001"
    assert "'birth_date'" in message.msg
    assert message.obj is Pupil


@isolate_apps()
def test_it_reports_e001_for_a_foreign_key_and_a_many_to_many_field() -> None:
    class Group(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = False

        class Meta:
            app_label = "regie_test"

    class Pupil(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = True
        DATA_CATEGORIES: ClassVar[Categories] = {"id": datacategories.UNIQUE_ID}
        main_group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
        clusters = models.ManyToManyField(Group, related_name="+")

        class Meta:
            app_label = "regie_test"

    messages = check_models([Pupil])
    assert [message.id for message in messages] == ["regie.E001", "regie.E001"]
    assert "'main_group'" in messages[0].msg
    assert "'clusters'" in messages[1].msg


@isolate_apps()
def test_it_reports_e002_for_an_entry_that_names_no_field() -> None:
    class Guardian(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = True
        DATA_CATEGORIES: ClassVar[Categories] = {
            "id": datacategories.UNIQUE_ID,
            "email": datacategories.EMAIL,
            "e_mail": datacategories.EMAIL,
        }
        email = models.EmailField()

        class Meta:
            app_label = "regie_test"

    [message] = check_models([Guardian])
    assert message.id == "regie.E002"
    assert "'e_mail'" in message.msg


@isolate_apps()
def test_it_reports_e003_for_personal_data_without_categories() -> None:
    class Guardian(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = True
        email = models.EmailField()

        class Meta:
            app_label = "regie_test"

    assert error_ids(Guardian) == ["regie.E003"]


@isolate_apps()
def test_it_reports_e004_for_a_model_that_does_not_say_whether_it_holds_personal_data() -> None:
    class Note(IsolatedModel):
        text = models.TextField()

        class Meta:
            app_label = "regie_test"

    class Vague(IsolatedModel):
        PERSONAL_DATA: ClassVar[object] = "perhaps"

        class Meta:
            app_label = "regie_test"

    assert error_ids(Note) == ["regie.E004"]
    assert error_ids(Vague) == ["regie.E004"]


@isolate_apps()
def test_it_reports_e005_for_an_entry_outside_the_taxonomy() -> None:
    made_up = DataCategory("user.shoe_size", "Schoenmaat", "Shoe size", "Not in the taxonomy.")

    class Pupil(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = True
        DATA_CATEGORIES: ClassVar[Mapping[str, object]] = {
            "id": "user.unique_id",
            "shoe_size": made_up,
        }
        shoe_size = models.PositiveIntegerField()

        class Meta:
            app_label = "regie_test"

    assert error_ids(Pupil) == ["regie.E005", "regie.E005"]


@isolate_apps()
def test_it_lets_a_model_without_personal_data_skip_the_categories() -> None:
    class Batch(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = False
        item_count = models.PositiveIntegerField()

        class Meta:
            app_label = "regie_test"

    assert check_models([Batch]) == []
    assert describe_model(Batch) == [("id", NOT_PERSONAL), ("item_count", NOT_PERSONAL)]


@isolate_apps()
def test_it_describes_a_model_field_by_field_in_declaration_order() -> None:
    class Staff(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = True
        DATA_CATEGORIES: ClassVar[Categories] = {
            "role": datacategories.ROLE,
            "email": datacategories.EMAIL,
            "id": datacategories.UNIQUE_ID,
        }
        email = models.EmailField()
        role = models.CharField(max_length=30)

        class Meta:
            app_label = "regie_test"

    assert describe_model(Staff) == [
        ("id", datacategories.UNIQUE_ID),
        ("email", datacategories.EMAIL),
        ("role", datacategories.ROLE),
    ]


@isolate_apps()
def test_it_refuses_to_describe_an_incomplete_model() -> None:
    class Pupil(IsolatedModel):
        PERSONAL_DATA: ClassVar[bool] = True
        DATA_CATEGORIES: ClassVar[Categories] = {"id": datacategories.UNIQUE_ID}
        roepnaam = models.CharField(max_length=100)

        class Meta:
            app_label = "regie_test"

    with pytest.raises(ImproperlyConfigured, match=r"regie\.E001.*'roepnaam'"):
        describe_model(Pupil)


def test_it_finds_no_error_in_the_installed_apps() -> None:
    messages = checks.run_checks()
    assert [message for message in messages if str(message.id).startswith("regie.")] == []
    assert check_data_categories() == []


def test_it_checks_the_regie_apps_and_only_those() -> None:
    checked = regie_models()
    assert AuditEvent in checked
    assert all(model._meta.app_config.name.startswith("regie.") for model in checked)
    assert apps.get_model("auth", "User") not in checked
    assert check_data_categories in checks.registry.registry.get_checks()


def test_it_describes_an_existing_model_without_personal_data() -> None:
    assert describe_model(AuditEvent) == [
        (name, NOT_PERSONAL)
        for name in ("id", "occurred_at", "event_type", "actor", "subject", "details", "salt")
    ]


def test_it_keys_the_taxonomy_uniquely_in_dotted_style() -> None:
    categories = [*datacategories.FIDESLANG_CATEGORIES, *datacategories.REGIE_CATEGORIES]
    keys = [category.key for category in categories]
    assert len(keys) == len(set(keys)) == len(TAXONOMY)
    dotted = re.compile(r"user(\.[a-z][a-z0-9_]*)*")
    for category in categories:
        assert dotted.fullmatch(category.key), category.key
        assert TAXONOMY[category.key] is category
        assert category.label_nl
        assert category.label_en
        assert category.description


def test_it_has_a_parent_for_every_category_but_the_root() -> None:
    for category in TAXONOMY.values():
        if category.key != "user":
            assert category.parent_key in TAXONOMY, category.key


def test_it_extends_fideslang_only_under_education_and_pseudonyms() -> None:
    for category in datacategories.REGIE_CATEGORIES:
        assert category.key.startswith(("user.education", "user.unique_id.pseudonymous.")), (
            category.key
        )


def test_it_marks_care_data_and_the_pgn_sensitive() -> None:
    assert datacategories.CARE.sensitive
    assert datacategories.NATIONAL_ID.sensitive
    assert not datacategories.ENROLMENT.sensitive
    assert not datacategories.SUPPLIER_PSEUDONYM.sensitive


def test_it_gets_a_category_by_key_or_names_the_missing_key() -> None:
    assert datacategories.get("user.contact.email") is datacategories.EMAIL
    assert datacategories.get("user.education.care") is datacategories.CARE
    with pytest.raises(KeyError, match=r"user\.shoe_size"):
        datacategories.get("user.shoe_size")
    assert repr(NOT_PERSONAL) == "NOT_PERSONAL"
