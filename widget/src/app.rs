//! `App`: one widget, mounted in one host element, and the widget's only component. Loads the
//! campaign, reports that to the host page, and shows it (`components::campaign`) in the
//! language of the element's `data-lang`.

use std::rc::Rc;

use protocol::events::{self, ErrorDetail, ReadyDetail, error_codes};
use protocol::ids::CampaignKey;
use yew::prelude::*;

use crate::components::{Ctx, DetailsRefs, Refs, Shown, after_render, el, on_loaded, view};
use crate::form;
use crate::hooks::{CampaignState, use_campaign};
use crate::host::{Commands, Host, HostState};
use crate::i18n::{Lang, Text};
use crate::state::WidgetState;

#[derive(Debug, Properties, PartialEq)]
pub struct AppProps {
    pub host: Host,
    /// The server's origin, e.g. `https://hookline.example`.
    pub api_base: AttrValue,
    pub commands: Commands,
}

#[function_component]
pub fn App(props: &AppProps) -> Html {
    let key = props.host.campaign_key();
    let lang = Lang::from_attribute(props.host.attribute("data-lang").as_deref());
    let loading = use_campaign(props.api_base.clone(), key.clone());
    let state = use_reducer(WidgetState::default);
    let refs = Refs {
        details: DetailsRefs {
            email: use_node_ref(),
            name: use_node_ref(),
            consent: use_node_ref(),
            honeypot: use_node_ref(),
        },
        value: use_node_ref(),
        dialog: use_node_ref(),
    };
    // Made once the campaign is there, so commands and timers wired then see every change.
    let ctx: Rc<Option<Ctx>> = {
        let (host, api_base, dispatch) = (
            props.host.clone(),
            props.api_base.clone(),
            state.dispatcher(),
        );
        use_memo(loading.clone(), move |loading| match loading {
            CampaignState::Loaded(campaign) => {
                Some(Ctx::new(campaign.clone(), host, api_base, lang, dispatch))
            }
            _ => None,
        })
    };
    {
        let (host, commands, ctx) = (props.host.clone(), props.commands.clone(), ctx.clone());
        use_effect_with(loading.clone(), move |loading| {
            match loading {
                CampaignState::Loading => host.set_state(HostState::Loading),
                CampaignState::Loaded(campaign) => {
                    host.set_state(HostState::Ready);
                    let detail = ReadyDetail {
                        campaign: form::campaign_info(campaign),
                    };
                    host.dispatch(events::READY, &detail);
                }
                CampaignState::Unavailable => {
                    host.set_state(HostState::Error);
                    let detail = ErrorDetail {
                        campaign: key.as_deref().and_then(CampaignKey::parse),
                        code: error_codes::CAMPAIGN_UNAVAILABLE.to_owned(),
                        detail: Lang::En.get(Text::Unavailable).to_owned(),
                        field: None,
                    };
                    host.dispatch(events::ERROR, &detail);
                }
            }
            if let Some(ctx) = ctx.as_ref() {
                on_loaded(ctx, &commands);
            }
            move || {
                if let Some(ctx) = ctx.as_ref() {
                    ctx.retire();
                    commands.unregister();
                }
            }
        });
    }
    {
        let (ctx, refs, before) = (ctx.clone(), refs.clone(), use_mut_ref(Shown::default));
        let shown = Shown {
            session: state.session.clone(),
            expanded: state.expanded,
            open: state.open,
            restored: state.restored,
        };
        use_effect_with(shown, move |shown| {
            let before = before.replace(shown.clone());
            if let Some(ctx) = ctx.as_ref() {
                after_render(ctx, &refs, shown, &before);
            }
        });
    }
    match (&*ctx, &loading) {
        (Some(ctx), _) => view(ctx, &state, &refs),
        (None, CampaignState::Unavailable) => card(
            "hl-unavailable",
            "role",
            "alert",
            lang.get(Text::Unavailable),
        ),
        (None, _) => card("hl-loading", "aria-busy", "true", lang.get(Text::Loading)),
    }
}

/// A card with one line: loading, or unavailable.
fn card(class: &'static str, name: &'static str, value: &'static str, text: &'static str) -> Html {
    el("section", "hl-card")
        .e(el("p", class).a(name, value).t(text))
        .h()
}
