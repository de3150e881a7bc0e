"""Finding things: the full-text search page, and the saved views of the list and the dashboard."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from proposals import search
from proposals.filters import no_control_characters
from proposals.models import Proposal, SavedView

SEARCH_PAGE = "proposals/search.html"
SEARCH_PAGE_SIZE = 20


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search every proposal",
        required=False,
        max_length=search.MAX_QUERY_LENGTH,
        validators=[no_control_characters],
        widget=forms.TextInput(attrs={"type": "search", "placeholder": 'Words, "a phrase", -without'}),
    )


@require_GET
@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    """Proposals matching the words anywhere (fields, ORR answers, requirements, links, comments), best first."""
    form = SearchForm(request.GET or None)
    text = form.cleaned_data["q"] if form.is_valid() else ""
    results = search.search(text, visible=Proposal.objects.visible_to(request.user))
    page = Paginator(results, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "text": text, "page": page, "hits": list(page.object_list)}
    template = SEARCH_PAGE
    if request.htmx and not request.htmx.history_restore_request:
        template += "#search-results"
    return render(request, template, context)


class SavedViewForm(forms.Form):
    name = forms.CharField(label="Save these filters as", max_length=100, validators=[no_control_characters])
    page = forms.ChoiceField(choices=SavedView.Page.choices, widget=forms.HiddenInput)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


def saved_view_query(query: str) -> str:
    """The filters of a page's query string, without its page number (a saved view starts at page 1)."""
    params = QueryDict(query, mutable=True)
    params.pop("page", None)
    return params.urlencode()


@require_POST
@login_required
def saved_view_save(request: HttpRequest) -> HttpResponse:
    """Save (or, under the same name, replace) the current filters of the list or the dashboard."""
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the view a name of up to 100 characters.")
        page = request.POST.get("page")
        return redirect(page if page in SavedView.Page.values else "proposals:list")
    view, _ = SavedView.objects.update_or_create(
        owner=request.user,
        page=form.cleaned_data["page"],
        name=form.cleaned_data["name"].strip(),
        defaults={"query": saved_view_query(form.cleaned_data["query"])},
    )
    messages.success(request, f"Saved “{view.name}”. Its address shows these filters to anyone you send it to.")
    return redirect(view.get_absolute_url())


@require_POST
@login_required
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=view_id, owner=request.user)
    view.delete()
    messages.success(request, f"Deleted the saved view “{view.name}”.")
    return redirect(view.page)
