//! How a widget appears on the host page, and when a modal or bar opens by itself: after a
//! delay, on exit intent, or never again for a while once the visitor closed it or entered.
//!
//! Pure decisions over the campaign, the element's attributes and instants (unix ms) the
//! caller reads from the clock, tested natively with made-up times. Must not touch the
//! browser or read the clock.

use protocol::campaign::{CaptureDisplay, PublicCampaign};

/// After the visitor closes a modal or bar, it does not open by itself again for this long.
pub const QUIET_AFTER_DISMISS_MS: i64 = 7 * 86_400_000;
/// Longest delay a modal may wait (`data-delay` is capped to it).
pub const MAX_DELAY_MS: i64 = 10 * 60 * 1000;

/// Where a widget renders, and the modal's delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Display {
    pub mode: CaptureDisplay,
    pub delay_ms: i64,
}

impl Display {
    /// Whether the widget is an overlay (modal or bar) that opens and closes.
    pub fn is_overlay(self) -> bool {
        self.mode != CaptureDisplay::Inline
    }
}

/// The display: the element's `data-display` (`inline`, `modal`, `exit_intent`, `bar`) and
/// `data-delay` (seconds) when the site owner set them, else the campaign's capture settings,
/// else inline.
pub fn display(
    campaign: &PublicCampaign,
    data_display: Option<&str>,
    data_delay: Option<&str>,
) -> Display {
    let settings = campaign.capture.as_ref();
    let mode = data_display
        .and_then(CaptureDisplay::parse)
        .or_else(|| settings.map(|capture| capture.display))
        .unwrap_or_default();
    let delay_ms = data_delay
        .and_then(seconds_to_ms)
        .unwrap_or_else(|| settings.map_or(0, |capture| i64::from(capture.delay_seconds) * 1000))
        .min(MAX_DELAY_MS);
    Display { mode, delay_ms }
}

/// `"1.5"` seconds as 1 500 milliseconds: digits, optionally a point and up to three more
/// (a float parser would cost the bundle about 5 KB). `None` for anything else.
fn seconds_to_ms(text: &str) -> Option<i64> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 6
        || fraction.len() > 3
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let millis = format!("{fraction:0<3}");
    Some(whole.parse::<i64>().ok()? * 1000 + millis.parse::<i64>().ok()?)
}

/// What opens a widget without the host page asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoOpen {
    /// Inline: always shown.
    Shown,
    /// Opens at this instant (unix ms).
    At(i64),
    /// Opens when the pointer leaves the page through the top.
    OnExitIntent,
    /// Stays closed (the host page can still open it).
    Closed,
}

/// When the widget opens by itself, for a page loaded at `loaded_at`. `dismissed_at`: when
/// the visitor last closed it (from storage); `entered`: they already entered this campaign.
pub fn auto_open(
    display: Display,
    loaded_at: i64,
    dismissed_at: Option<i64>,
    entered: bool,
) -> AutoOpen {
    if !display.is_overlay() {
        return AutoOpen::Shown;
    }
    let quiet =
        dismissed_at.is_some_and(|at| loaded_at.saturating_sub(at) < QUIET_AFTER_DISMISS_MS);
    if entered || quiet {
        return AutoOpen::Closed;
    }
    match display.mode {
        CaptureDisplay::Modal => AutoOpen::At(loaded_at.saturating_add(display.delay_ms)),
        CaptureDisplay::Bar => AutoOpen::At(loaded_at),
        CaptureDisplay::ExitIntent => AutoOpen::OnExitIntent,
        CaptureDisplay::Inline => AutoOpen::Shown,
    }
}

/// How long to wait at `now` before opening at `at`, in milliseconds (0: at once).
pub fn wait_ms(at: i64, now: i64) -> u32 {
    u32::try_from(at.saturating_sub(now).max(0)).unwrap_or(u32::MAX)
}

/// Whether an exit-intent gesture opens the widget now: only for exit-intent displays that
/// would open by themselves, and only once per page.
pub fn opens_on_exit_intent(auto: AutoOpen, opened_before: bool) -> bool {
    auto == AutoOpen::OnExitIntent && !opened_before
}

#[cfg(test)]
mod tests {
    use protocol::campaign::{CampaignStatus, CampaignType, CaptureSettings};
    use protocol::ids::CampaignKey;

    use super::*;

    const LOADED: i64 = 1_795_328_077_000;

    fn campaign(capture: Option<CaptureSettings>) -> PublicCampaign {
        PublicCampaign {
            key: CampaignKey::parse("news").unwrap_or_else(|| unreachable!()),
            name: "News".into(),
            campaign_type: CampaignType::Capture,
            status: CampaignStatus::Running,
            description: String::new(),
            consent_text: String::new(),
            entry_methods: Vec::new(),
            issued_at: 0,
            starts_at: None,
            ends_at: None,
            image_url: String::new(),
            reward: None,
            capture,
            social_proof: None,
        }
    }

    fn modal(delay_seconds: u32) -> Option<CaptureSettings> {
        Some(CaptureSettings {
            display: CaptureDisplay::Modal,
            delay_seconds,
            ..CaptureSettings::default()
        })
    }

    #[test]
    fn the_element_overrides_the_campaign() {
        let check = |capture, data_display, data_delay, expected: (CaptureDisplay, i64)| {
            let shown = display(&campaign(capture), data_display, data_delay);
            assert_eq!(
                (shown.mode, shown.delay_ms),
                expected,
                "{data_display:?} {data_delay:?}"
            );
        };
        use CaptureDisplay::*;
        check(None, None, None, (Inline, 0));
        check(modal(5), None, None, (Modal, 5_000));
        check(modal(5), Some("bar"), None, (Bar, 5_000));
        check(modal(5), None, Some("1.5"), (Modal, 1_500));
        check(None, Some("modal"), Some("2"), (Modal, 2_000));
        check(None, Some("exit_intent"), None, (ExitIntent, 0));
        check(modal(5), Some("sideways"), Some("soon"), (Modal, 5_000));
        check(None, Some("modal"), Some("-3"), (Modal, 0));
        check(None, Some("modal"), Some(" 0.25 "), (Modal, 250));
        check(modal(5), None, Some("1.2345"), (Modal, 5_000));
        check(modal(5), None, Some(".5"), (Modal, 5_000));
        check(None, Some("modal"), Some("86400"), (Modal, MAX_DELAY_MS));
    }

    #[test]
    fn when_overlays_open_by_themselves() {
        let at = |mode, delay_ms| Display { mode, delay_ms };
        use CaptureDisplay::*;
        assert_eq!(
            auto_open(at(Inline, 0), LOADED, None, true),
            AutoOpen::Shown
        );
        assert_eq!(
            auto_open(at(Modal, 3_000), LOADED, None, false),
            AutoOpen::At(LOADED + 3_000)
        );
        assert_eq!(
            auto_open(at(Bar, 3_000), LOADED, None, false),
            AutoOpen::At(LOADED)
        );
        assert_eq!(
            auto_open(at(ExitIntent, 0), LOADED, None, false),
            AutoOpen::OnExitIntent
        );
        // Entered already, or closed recently: stays closed.
        assert_eq!(
            auto_open(at(Modal, 0), LOADED, None, true),
            AutoOpen::Closed
        );
        let yesterday = LOADED - 86_400_000;
        assert_eq!(
            auto_open(at(Modal, 0), LOADED, Some(yesterday), false),
            AutoOpen::Closed
        );
        let long_ago = LOADED - QUIET_AFTER_DISMISS_MS;
        assert_eq!(
            auto_open(at(Modal, 0), LOADED, Some(long_ago), false),
            AutoOpen::At(LOADED)
        );
    }

    #[test]
    fn waiting_for_the_delay() {
        assert_eq!(wait_ms(LOADED + 3_000, LOADED), 3_000);
        assert_eq!(wait_ms(LOADED + 3_000, LOADED + 1_000), 2_000);
        assert_eq!(wait_ms(LOADED, LOADED + 1_000), 0, "late: at once");
    }

    #[test]
    fn exit_intent_opens_once() {
        assert!(opens_on_exit_intent(AutoOpen::OnExitIntent, false));
        assert!(!opens_on_exit_intent(AutoOpen::OnExitIntent, true));
        assert!(!opens_on_exit_intent(AutoOpen::At(LOADED), false));
        assert!(!opens_on_exit_intent(AutoOpen::Closed, false));
    }
}
