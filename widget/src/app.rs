//! `App`: one widget, mounted in one host element. Loads the campaign, reports that to the host
//! page, and shows it (`CampaignView`), in the language of the element's `data-lang`.

use protocol::events::{self, ErrorDetail, ReadyDetail, error_codes};
use protocol::ids::CampaignKey;
use yew::prelude::*;

use crate::components::{CampaignView, el};
use crate::form;
use crate::hooks::{CampaignState, use_campaign};
use crate::host::{Commands, Host, HostState};
use crate::i18n::{Lang, Text};

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
    let state = use_campaign(props.api_base.clone(), key.clone());
    {
        let host = props.host.clone();
        use_effect_with(state.clone(), move |state| match state {
            CampaignState::Loading => host.set_state(HostState::Loading),
            CampaignState::Loaded(campaign) => {
                host.set_state(HostState::Ready);
                host.dispatch(
                    events::READY,
                    &ReadyDetail {
                        campaign: form::campaign_info(campaign),
                    },
                );
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
        });
    }

    let card = |class: &'static str, text: Text, role: &'static str| {
        el("section", "hl-card")
            .e(el("p", class)
                .a(role, if role == "role" { "alert" } else { "true" })
                .t(lang.get(text)))
            .h()
    };
    match &state {
        CampaignState::Loading => card("hl-loading", Text::Loading, "aria-busy"),
        CampaignState::Unavailable => card("hl-unavailable", Text::Unavailable, "role"),
        CampaignState::Loaded(campaign) => html! {
            <CampaignView campaign={campaign.clone()} host={props.host.clone()}
                api_base={props.api_base.clone()} commands={props.commands.clone()} {lang} />
        },
    }
}
