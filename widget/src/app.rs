//! `App`: one widget, mounted in one host element, and the widget's only component. Loads the
//! campaign (`GET {api_base}/api/v1/public/campaigns/{key}`) into its state, reports that to
//! the host page, and shows it (`components::campaign`) in the language of the element's
//! `data-lang`.

use std::rc::Rc;

use protocol::events::{self, ErrorDetail, ReadyDetail, error_codes};
use protocol::ids::CampaignKey;
use yew::Reducible;
use yew::html::Scope;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::fetch_campaign;
use crate::components::{Ctx, Shown, after_render, el, on_loaded, toasts, view};
use crate::form;
use crate::host::{Commands, Host, HostState};
use crate::i18n::{Lang, Text};
use crate::state::{Action, CampaignState, WidgetState};

#[derive(Debug, Properties, PartialEq)]
pub struct AppProps {
    pub host: Host,
    /// The server's origin, e.g. `https://hookline.example`.
    pub api_base: AttrValue,
    pub commands: Commands,
}

/// A struct component rather than a function component with hooks: Yew's hook machinery
/// (hook states, effects, their generic code) costs the bundle more than `update` and
/// `rendered`. Its messages are the reducer's actions (`state.rs`); `Ctx` holds the scope to
/// send them.
#[derive(Debug, Default)]
pub struct App {
    state: Rc<WidgetState>,
    /// The campaign's state as last reported to the host page.
    reported: Option<CampaignState>,
}

impl Component for App {
    type Message = Action;
    type Properties = AppProps;

    fn create(_: &Context<Self>) -> Self {
        Self::default()
    }

    fn update(&mut self, _: &Context<Self>, action: Action) -> bool {
        self.state = Rc::clone(&self.state).reduce(action);
        true
    }

    fn view(&self, context: &Context<Self>) -> Html {
        let state = &self.state;
        match &state.campaign {
            CampaignState::Loaded(ctx) => [view(ctx, state, &ctx.refs), toasts(ctx, state)]
                .into_iter()
                .collect(),
            CampaignState::Unavailable => card(
                "hl-unavailable",
                "role",
                "alert",
                lang(context).get(Text::Unavailable),
            ),
            CampaignState::Loading => card(
                "hl-loading",
                "aria-busy",
                "true",
                lang(context).get(Text::Loading),
            ),
        }
    }

    /// After each render: the campaign's state reported to the host page, once each, then
    /// what the render changed (`after_render`).
    fn rendered(&mut self, context: &Context<Self>, _first_render: bool) {
        let campaign = &self.state.campaign;
        if let CampaignState::Loaded(ctx) = campaign {
            let state = &self.state;
            let shown = Shown {
                session: state.session.clone(),
                expanded: state.expanded,
                open: state.open,
                restored: state.restored,
            };
            after_render(ctx, &shown);
        }
        if self.reported.as_ref() == Some(campaign) {
            return;
        }
        self.reported = Some(campaign.clone());
        let props = context.props();
        let host = &props.host;
        let key = host.campaign_key();
        match campaign {
            CampaignState::Loading => {
                host.set_state(HostState::Loading);
                load_campaign(
                    host.clone(),
                    props.api_base.clone(),
                    key,
                    lang(context),
                    context.link().clone(),
                );
            }
            CampaignState::Loaded(ctx) => {
                host.set_state(HostState::Ready);
                let detail = ReadyDetail {
                    campaign: form::campaign_info(&ctx.campaign),
                };
                host.dispatch(events::READY, &detail);
                on_loaded(ctx, &props.commands);
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
    }
}

/// The widget's language, from the element's `data-lang`.
fn lang(context: &Context<App>) -> Lang {
    Lang::from_attribute(context.props().host.attribute("data-lang").as_deref())
}

/// Loads the campaign `key` (the element's `data-campaign`) into the widget's state, with the
/// context its side effects run in (made once, so commands and timers wired then see every
/// change).
fn load_campaign(
    host: Host,
    api_base: AttrValue,
    key: Option<String>,
    lang: Lang,
    scope: Scope<App>,
) {
    let Some(key) = key.as_deref().and_then(CampaignKey::parse) else {
        scope.send_message(Action::Campaign(CampaignState::Unavailable));
        return;
    };
    spawn_local(async move {
        let loaded = match fetch_campaign(&api_base, key.as_str()).await {
            Some(campaign) => CampaignState::Loaded(Ctx::new(
                Rc::new(campaign),
                host,
                api_base,
                lang,
                scope.clone(),
            )),
            None => CampaignState::Unavailable,
        };
        scope.send_message(Action::Campaign(loaded));
    });
}

/// A card with one line: loading, or unavailable.
fn card(class: &'static str, name: &'static str, value: &'static str, text: &'static str) -> Html {
    el("section", "hl-card")
        .e(el("p", class).a(name, value).t(text))
        .h()
}
