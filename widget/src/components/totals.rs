//! What the contestant has so far: their entries (Competition), their progress and then the
//! reward's code or download (Reward). Announced politely to screen readers as it changes.

use protocol::entry::UnlockedReward;
use yew::prelude::*;

use super::campaign::Ctx;
use super::el::el;
use crate::i18n::Text;
use crate::rules;
use crate::session::Session;
use crate::state::WidgetState;

pub fn totals(ctx: &Ctx, state: &WidgetState, session: &Session) -> Html {
    let lang = ctx.lang;
    let campaign = &ctx.campaign;
    let mut live = el("div", "hl-totals")
        .a("role", "status")
        .a("aria-live", "polite");
    if session.total_entries > 0 {
        live = live.e(el("p", "hl-done")
            .e(el("strong", "").t(ctx.text(Text::YoureIn)))
            .t(" ")
            .t_s(lang.entries(session.total_entries)));
    } else if !state.posting.is_empty() {
        live = live.e(el("p", "hl-pending").t(ctx.text(Text::Sending)));
    }
    for (name, value) in &state.answer {
        live = live.e(el("p", "hl-answer")
            .t_s(name.clone())
            .t(": ")
            .e(el("strong", "").t_s(value.clone())));
    }
    let progress = rules::reward_progress(campaign, &session.completed, session.actions_completed);
    if let (Some(reward), Some(progress)) = (campaign.reward.as_ref(), progress) {
        let said = lang.progress(progress.done, progress.needed);
        let mut block =
            el("div", "hl-reward").e(el("p", "hl-reward-title").t_s(reward.title.clone()));
        if !reward.description.is_empty() {
            block = block.e(el("p", "hl-reward-description").t_s(reward.description.clone()));
        }
        block = block
            .e(el("progress", "hl-progress")
                .a_s("max", progress.needed.to_string())
                .a_s("value", progress.done.to_string())
                .a_s("aria-label", said.clone()))
            .e(el("p", "hl-progress-text").t_s(said));
        if let Some(given) = &session.reward {
            block = block
                .e(el("p", "hl-unlocked").t(ctx.text(Text::RewardUnlocked)))
                .c(reward_view(ctx, given));
        } else if progress.unlocked() {
            block = block.e(el("p", "hl-unlocked").t(ctx.text(Text::RewardUnlocked)));
        }
        live = live.e(block);
    }
    live.h()
}

fn reward_view(ctx: &Ctx, reward: &UnlockedReward) -> Html {
    match reward {
        UnlockedReward::Coupon { code, .. } => el("div", "hl-coupon")
            .e(el("p", "hl-label").t(ctx.text(Text::YourCode)))
            .e(el("p", "hl-code").t_s(code.clone()))
            .h(),
        UnlockedReward::Download { url, .. } => el("a", "hl-submit hl-download")
            .a_s("href", url.clone())
            .a("target", "_blank")
            .a("rel", "noopener noreferrer")
            .t(ctx.text(Text::Download))
            .h(),
    }
}
