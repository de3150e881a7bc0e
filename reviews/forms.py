from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q

from proposals import access
from proposals.models import TEXT_MAX_LENGTH
from reviews.models import DUE_SOON_DAYS, Decision, NotificationPreference, OrrArea, Review


class AnswerForm(forms.Form):
    answer = forms.CharField(required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea)
    # sha256 of the answer the form was loaded with: the base a save builds on.
    base = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(
        label="Decision",
        choices=[
            (Decision.Kind.APPROVED, "Approve (sign off)"),
            (Decision.Kind.CHANGES_REQUESTED, "Request changes"),
            (Decision.Kind.NOT_APPLICABLE, "Not applicable"),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Comment for the author",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required to request changes (say what to change) or to mark the area not applicable (say why). "
        "The author sees it next to the area.",
    )
    waiver_expires_on = forms.DateField(
        label="Waiver expires on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Only for not applicable: after this date the area needs a decision again.",
    )
    answer_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)

    # What each decision does, under its choice on the review page.
    KIND_HELP = {
        Decision.Kind.APPROVED: "Signs off exactly this text; a later change makes it stale.",
        Decision.Kind.CHANGES_REQUESTED: "The author sees your reason next to the area, answers, and resubmits it.",
        Decision.Kind.NOT_APPLICABLE: "Say why below; optionally until a date.",
    }

    def kinds(self) -> list[tuple]:
        """Each decision's radio with what it does."""
        return [(choice, self.KIND_HELP.get(choice.data["value"], "")) for choice in self["kind"]]


class CommentForm(forms.Form):
    body = forms.CharField(label="Your message", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))


class QueueFilterForm(forms.Form):
    SHOW_WAITING = "waiting"
    SHOW_CHANGES_REQUESTED = "changes_requested"
    SHOW_DECIDED = "decided"
    SHOW_ALL = "all"
    DUE_OVERDUE = "overdue"
    DUE_SOON = "soon"

    show = forms.ChoiceField(
        required=False,
        choices=[
            (SHOW_WAITING, "Open: waiting for me or the author"),
            (SHOW_CHANGES_REQUESTED, "Changes requested"),
            (SHOW_DECIDED, "Signed off"),
            (SHOW_ALL, "All"),
        ],
    )
    area = forms.ModelChoiceField(required=False, queryset=OrrArea.objects.all(), empty_label="All areas")
    due = forms.ChoiceField(
        required=False,
        choices=[("", "Any due date"), (DUE_OVERDUE, "Overdue"), (DUE_SOON, f"Due within {DUE_SOON_DAYS} days")],
    )
    changed = forms.BooleanField(required=False, label="Changed since I last looked")

    def apply(self, reviews, *, today: datetime.date):
        data = self.cleaned_data if self.is_valid() else {}
        show = data.get("show") or self.SHOW_WAITING
        if show == self.SHOW_WAITING:
            # A "changes requested" stays in view (waiting for the author, or answered) until it is resubmitted.
            reviews = reviews.filter(
                Q(status__in=Review.WAITING) | Q(status=Review.Status.CHANGES_REQUESTED),
                proposal__state__in=Review.OPEN_PROPOSAL_STATES,
            )
        elif show == self.SHOW_CHANGES_REQUESTED:
            reviews = reviews.filter(status=Review.Status.CHANGES_REQUESTED)
        elif show == self.SHOW_DECIDED:
            reviews = reviews.filter(status__in=Review.SIGNED_OFF)
        if data.get("area"):
            reviews = reviews.filter(area=data["area"])
        if data.get("due") == self.DUE_OVERDUE:
            reviews = reviews.filter(due_on__lt=today)
        elif data.get("due") == self.DUE_SOON:
            reviews = reviews.filter(due_on__gte=today, due_on__lte=today + datetime.timedelta(days=DUE_SOON_DAYS))
        if data.get("changed"):
            reviews = reviews.filter(Q(answer_changed_since_seen=True) | Q(new_comments=True))
        return reviews


class OrrAreaSetupForm(forms.ModelForm):
    """One area's setup on the ORR setup page."""

    class Meta:
        model = OrrArea
        fields = ["reviewer_group", "reviewers", "lead", "service_level_days", "slack_webhook_url"]
        widgets = {"reviewers": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["reviewers"].queryset = people.filter(groups__name=access.REVIEWERS)
        self.fields["lead"].queryset = people
        self.fields["reviewer_group"].queryset = Group.objects.order_by("name")
        self.fields["service_level_days"].min_value = 1
        self.fields["service_level_days"].validators.append(MinValueValidator(1))
        self.fields["service_level_days"].validators.append(MaxValueValidator(365))

    def clean_slack_webhook_url(self):
        url = self.cleaned_data["slack_webhook_url"].strip()
        if url and not url.lower().startswith("https://"):
            raise forms.ValidationError("A Slack webhook is an https:// address.")
        return url


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["email", "in_app"]
        labels = {"email": "E-mail", "in_app": "In Stagegate (the bell)"}
