//! The social proof toast: "Joe B. from Miami, FL bought Sneakers · 3 minutes ago", fixed in
//! the corner the owner chose, inside the widget's shadow root.
//!
//! The region (`role=status`, polite) is always there while the campaign shows social proof,
//! so screen readers announce each toast as it comes. A toast holds the product's link (a new
//! tab) and a close button, both reachable by keyboard (Escape closes it too); it stays while
//! either has the focus (or the pointer is on it). Closing one stops them for the visit. What
//! shows when is `toasts.rs`'s business.

use protocol::social::ToastPosition;
use yew::prelude::*;

use super::campaign::Ctx;
use super::el::el;
use crate::bindings::now_ms;
use crate::form;
use crate::i18n::Text;
use crate::state::WidgetState;
use crate::toasts;

pub fn toasts(ctx: &Ctx, state: &WidgetState) -> Html {
    let Some(settings) = &ctx.campaign.social_proof else {
        return Html::default();
    };
    let region = el(
        "div",
        match settings.position {
            ToastPosition::BottomLeft => "hl-toasts hl-bottom hl-left",
            ToastPosition::BottomRight => "hl-toasts hl-bottom hl-right",
            ToastPosition::TopLeft => "hl-toasts hl-top hl-left",
            ToastPosition::TopRight => "hl-toasts hl-top hl-right",
        },
    )
    .a("role", "status")
    .a("aria-live", "polite")
    .a("lang", ctx.lang.tag());
    let Some(notification) = &state.toast else {
        return region.h();
    };
    let sentence = toasts::sentence(ctx.lang, notification, &ctx.campaign.name);
    let mut text = el("p", "hl-toast-text").t_s(sentence.before);
    if let Some((what, link)) = sentence.what {
        text = text.e(match link.filter(|link| form::is_web_url(link)) {
            Some(link) => el("a", "")
                .a_s("href", link)
                .a("target", "_blank")
                .a("rel", "noopener noreferrer")
                .t_s(what),
            None => el("strong", "").t_s(what),
        });
    }
    let dismiss = |ctx: &Ctx| {
        let ctx = ctx.clone();
        move || ctx.dismiss_toast()
    };
    let on_key = {
        let dismiss = dismiss(ctx);
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                dismiss();
            }
        })
    };
    let on_close = {
        let dismiss = dismiss(ctx);
        Callback::from(move |_: MouseEvent| dismiss())
    };
    let mut toast = el("div", "hl-toast")
        .r(&ctx.toast_ref)
        .a_s("data-id", notification.id.clone())
        .keydown(on_key);
    let image = notification
        .product
        .as_ref()
        .and_then(|product| product.image.clone())
        .filter(|image| form::is_web_url(image));
    if let Some(image) = image {
        toast = toast.e(el("img", "hl-toast-image").a_s("src", image).a("alt", ""));
    }
    region
        .e(toast
            .e(el("div", "")
                .e(text.t_s(sentence.after))
                .e(el("p", "hl-toast-time").t_s(toasts::ago(
                    ctx.lang,
                    notification.occurred_at,
                    now_ms(),
                ))))
            .e(el("button", "hl-toast-close")
                .a("type", "button")
                .a("aria-label", ctx.text(Text::HideToasts))
                .click(on_close)
                .t("×")))
        .h()
}
