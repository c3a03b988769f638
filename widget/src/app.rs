//! `App`: one widget, mounted in one host element. Loads the campaign, reports that to the host
//! page, and shows the campaign with its entry form.

use protocol::events::{self, ErrorDetail, ReadyDetail};
use protocol::ids::CampaignKey;
use yew::prelude::*;

use crate::components::EntryForm;
use crate::form::{self, CAMPAIGN_UNAVAILABLE_CODE, CAMPAIGN_UNAVAILABLE_MESSAGE};
use crate::hooks::{CampaignState, use_campaign};
use crate::host::{Host, HostState};

#[derive(Debug, Properties, PartialEq)]
pub struct AppProps {
    pub host: Host,
    /// The server's origin, e.g. `https://hookline.example`.
    pub api_base: AttrValue,
}

#[function_component]
pub fn App(props: &AppProps) -> Html {
    let key = props.host.campaign_key();
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
                    code: CAMPAIGN_UNAVAILABLE_CODE.to_owned(),
                    detail: CAMPAIGN_UNAVAILABLE_MESSAGE.to_owned(),
                    field: None,
                };
                host.dispatch(events::ERROR, &detail);
            }
        });
    }

    let body = match &state {
        CampaignState::Loading => {
            html! { <p class="hl-loading" aria-busy="true">{ "Loading…" }</p> }
        }
        CampaignState::Unavailable => html! {
            <p class="hl-unavailable" role="alert">{ CAMPAIGN_UNAVAILABLE_MESSAGE }</p>
        },
        CampaignState::Loaded(campaign) => {
            let form = match form::form_entry_method(campaign) {
                Some(entry_method_id) => html! {
                    <EntryForm campaign={campaign.clone()} {entry_method_id}
                        host={props.host.clone()} api_base={props.api_base.clone()} />
                },
                None => {
                    html! { <p class="hl-unavailable">{ "This campaign takes no entries yet." }</p> }
                }
            };
            html! {
                <>
                    <h2 class="hl-name">{ &campaign.name }</h2>
                    if !campaign.description.is_empty() {
                        <p class="hl-description">{ &campaign.description }</p>
                    }
                    { form }
                </>
            }
        }
    };
    html! { <section class="hl-card" aria-label="Campaign">{ body }</section> }
}
