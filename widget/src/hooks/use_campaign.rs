//! `use_campaign`: loads the public campaign once per key.

use std::rc::Rc;

use protocol::campaign::PublicCampaign;
use protocol::ids::CampaignKey;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::fetch_campaign;

/// Where loading the campaign has got to.
#[derive(Debug, Clone)]
pub enum CampaignState {
    Loading,
    Loaded(Rc<PublicCampaign>),
    /// Missing or malformed key, unknown campaign, or the server could not be reached.
    Unavailable,
}

/// By identity: a loaded campaign never changes in place (comparing every field would cost
/// the bundle that code, on every render).
impl PartialEq for CampaignState {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Loaded(a), Self::Loaded(b)) => Rc::ptr_eq(a, b),
            (Self::Loading, Self::Loading) | (Self::Unavailable, Self::Unavailable) => true,
            _ => false,
        }
    }
}

/// Fetches `GET {api_base}/api/v1/public/campaigns/{key}` when `key` changes.
#[hook]
pub fn use_campaign(api_base: AttrValue, key: Option<String>) -> CampaignState {
    let state = use_state(|| CampaignState::Loading);
    {
        let state = state.clone();
        use_effect_with(key, move |key| {
            match key.as_deref().and_then(CampaignKey::parse) {
                None => state.set(CampaignState::Unavailable),
                Some(key) => {
                    state.set(CampaignState::Loading);
                    spawn_local(async move {
                        let loaded = fetch_campaign(&api_base, key.as_str()).await;
                        state.set(match loaded {
                            Some(campaign) => CampaignState::Loaded(Rc::new(campaign)),
                            None => CampaignState::Unavailable,
                        });
                    });
                }
            }
        });
    }
    (*state).clone()
}
