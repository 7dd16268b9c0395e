"""Forms of the knowledge base: the portal's search and feedback, and the dashboard's editor.
They only shape the input; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.models import Merchant
from tickets.models import ArticleCategory, ArticleLanguage


class HelpSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the help centre"),
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "enterkeyhint": "search"}),
    )
    # The verified order the customer was opening a request for, if any.
    order = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def clean_q(self):
        return self.cleaned_data["q"].strip()


class HelpFeedbackForm(forms.Form):
    helpful = forms.ChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))])


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    language = forms.ChoiceField(label=_("Language"), choices=ArticleLanguage.choices)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ArticleCategory.objects.none(), required=False, empty_label=_("No category")
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=50000,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_("Plain text; a blank line starts a new paragraph."),
    )

    def __init__(self, *args, merchant: Merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ArticleCategory.objects.filter(merchant=merchant)  # type: ignore[attr-defined]


class ArticleCategoryForm(forms.Form):
    name_zh_hans = forms.CharField(label=_("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100)
    position = forms.IntegerField(label=_("Position"), min_value=0, initial=0)


class ArticleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
