//! Writing `protocol` types out as plain JavaScript objects, field by field: every event's
//! `detail` and the entry post's body. The counterpart of `answers.rs`.
//!
//! Written out by hand instead of serde: `serde_wasm_bindgen` and one `Serialize` expansion
//! per type cost about 10 KB of the widget's gzipped budget. The shapes must stay exactly the
//! derived `Serialize`'s, so the tests write each type both ways (here, into a
//! `serde_json::Map`; and with serde) and compare. Must not touch the DOM.

use protocol::campaign::EntryMethodType;
use protocol::entry::{EntrySummary, UnlockedReward};
use protocol::events::{
    CampaignInfo, CaptureDetail, CloseDetail, CloseTrigger, ContestantInfo, EntryDetail,
    ErrorDetail, LoginDetail, OpenDetail, OpenTrigger, ReadyDetail, RewardDetail,
};
use wasm_bindgen::JsValue;

use crate::form::Post;

/// Where fields are written: a JS object in the browser, a JSON map in tests.
pub trait Out {
    fn str(&mut self, key: &str, value: &str);
    fn num(&mut self, key: &str, value: f64);
    fn flag(&mut self, key: &str, value: bool);
    fn null(&mut self, key: &str);
    /// A nested object, written by `write`.
    fn obj(&mut self, key: &str, write: &dyn Fn(&mut dyn Out));
}

/// A type that writes itself as an object's fields.
pub trait Write {
    fn write(&self, out: &mut dyn Out);
}

/// `value` as a new JS object.
pub fn to_js(value: &dyn Write) -> JsValue {
    let mut out = JsOut(js_sys::Object::new());
    value.write(&mut out);
    out.0.into()
}

struct JsOut(js_sys::Object);

impl JsOut {
    #[inline(never)]
    fn set(&mut self, key: &str, value: &JsValue) {
        // Setting a property of a plain object created here does not fail.
        let _ = js_sys::Reflect::set(&self.0, &JsValue::from_str(key), value);
    }
}

impl Out for JsOut {
    fn str(&mut self, key: &str, value: &str) {
        self.set(key, &JsValue::from_str(value));
    }

    fn num(&mut self, key: &str, value: f64) {
        self.set(key, &JsValue::from_f64(value));
    }

    fn flag(&mut self, key: &str, value: bool) {
        self.set(key, &JsValue::from_bool(value));
    }

    fn null(&mut self, key: &str) {
        self.set(key, &JsValue::NULL);
    }

    fn obj(&mut self, key: &str, write: &dyn Fn(&mut dyn Out)) {
        let mut inner = JsOut(js_sys::Object::new());
        write(&mut inner);
        self.set(key, &inner.0.into());
    }
}

fn opt_str(out: &mut dyn Out, key: &str, value: Option<&str>) {
    match value {
        Some(value) => out.str(key, value),
        None => out.null(key),
    }
}

// Ids and counts are integers far below 2^53, so they are exact as JS numbers.
#[allow(clippy::cast_precision_loss)]
fn int(out: &mut dyn Out, key: &str, value: i64) {
    out.num(key, value as f64);
}

fn method_type(kind: EntryMethodType) -> &'static str {
    kind.as_str()
}

impl Write for CampaignInfo {
    fn write(&self, out: &mut dyn Out) {
        out.str("key", self.key.as_str());
        out.str("name", &self.name);
        out.str("type", self.campaign_type.as_str());
    }
}

impl Write for ContestantInfo {
    fn write(&self, out: &mut dyn Out) {
        out.str("email", &self.email);
        out.str("name", &self.name);
    }
}

impl Write for EntrySummary {
    fn write(&self, out: &mut dyn Out) {
        int(out, "id", self.id.0);
        int(out, "entry_method_id", self.entry_method_id.0);
        out.str("type", &self.entry_type);
        out.str("action", &self.action);
        out.num("worth", self.worth.into());
        out.str("created_at", &self.created_at);
    }
}

impl Write for UnlockedReward {
    fn write(&self, out: &mut dyn Out) {
        match self {
            Self::Coupon { code, title } => {
                out.str("type", "Coupon");
                out.str("code", code);
                out.str("title", title);
            }
            Self::Download { url, title } => {
                out.str("type", "Download");
                out.str("url", url);
                out.str("title", title);
            }
        }
    }
}

fn campaign_and_user(out: &mut dyn Out, campaign: &CampaignInfo, user: &ContestantInfo) {
    out.obj("campaign", &|out| campaign.write(out));
    out.obj("user", &|out| user.write(out));
}

impl Write for ReadyDetail {
    fn write(&self, out: &mut dyn Out) {
        out.obj("campaign", &|out| self.campaign.write(out));
    }
}

impl Write for LoginDetail {
    fn write(&self, out: &mut dyn Out) {
        campaign_and_user(out, &self.campaign, &self.user);
        out.flag("restored", self.restored);
    }
}

impl Write for CaptureDetail {
    fn write(&self, out: &mut dyn Out) {
        campaign_and_user(out, &self.campaign, &self.user);
        int(out, "entry_method_id", self.entry_method_id.0);
        out.str("type", method_type(self.entry_type));
        out.str("idempotency_key", &self.idempotency_key);
    }
}

impl Write for EntryDetail {
    fn write(&self, out: &mut dyn Out) {
        campaign_and_user(out, &self.campaign, &self.user);
        out.obj("entry", &|out| self.entry.write(out));
        out.str("value", &self.value);
        out.str("idempotency_key", &self.idempotency_key);
        out.num("actions_completed", self.actions_completed.into());
        out.num("total_entries", self.total_entries.into());
        if let Some(answer) = &self.answer {
            out.obj("answer", &|out| {
                for (name, value) in &answer.0 {
                    out.str(name, value);
                }
            });
        }
    }
}

impl Write for RewardDetail {
    fn write(&self, out: &mut dyn Out) {
        campaign_and_user(out, &self.campaign, &self.user);
        out.obj("reward", &|out| self.reward.write(out));
    }
}

impl Write for OpenDetail {
    fn write(&self, out: &mut dyn Out) {
        out.obj("campaign", &|out| self.campaign.write(out));
        let trigger = match self.trigger {
            OpenTrigger::Command => "command",
            OpenTrigger::Delay => "delay",
            OpenTrigger::ExitIntent => "exit_intent",
        };
        out.str("trigger", trigger);
    }
}

impl Write for CloseDetail {
    fn write(&self, out: &mut dyn Out) {
        out.obj("campaign", &|out| self.campaign.write(out));
        let trigger = match self.trigger {
            CloseTrigger::Command => "command",
            CloseTrigger::Dismissed => "dismissed",
        };
        out.str("trigger", trigger);
    }
}

impl Write for ErrorDetail {
    fn write(&self, out: &mut dyn Out) {
        opt_str(
            out,
            "campaign",
            self.campaign.as_ref().map(|key| key.as_str()),
        );
        out.str("code", &self.code);
        out.str("detail", &self.detail);
        opt_str(out, "field", self.field.as_deref());
    }
}

/// `hookline:notification`'s detail (`protocol::events::NotificationDetail`) but its
/// `notification`, which the widget passes on as the feed's JSON parsed it (the server wrote
/// it with serde): nothing to copy or write field by field.
#[derive(Debug)]
pub struct NotificationText<'a> {
    pub campaign: &'a CampaignInfo,
    pub text: &'a str,
}

impl Write for NotificationText<'_> {
    fn write(&self, out: &mut dyn Out) {
        out.obj("campaign", &|out| self.campaign.write(out));
        out.str("text", self.text);
    }
}

/// The entry post, as `protocol::entry::EntryPost`'s `Serialize` writes it (absent options
/// left out).
impl Write for Post {
    fn write(&self, out: &mut dyn Out) {
        out.str("idempotency_key", &self.idempotency_key);
        int(out, "entry_method_id", self.entry_method_id.0);
        out.str("email", &self.email);
        out.str("name", &self.name);
        out.flag("consent", self.consent);
        out.obj("details", &|out| {
            if let Some((question, answer)) = &self.answer {
                out.str(question, answer);
            }
        });
        out.str("landing_url", &self.landing_url);
        out.str("referring_url", &self.referring_url);
        out.str("honeypot", &self.honeypot);
        if let Some(issued_at) = self.form_issued_at {
            int(out, "form_issued_at", issued_at);
        }
        out.str("value", &self.value);
        if let Some(upload) = &self.upload_id {
            out.str("upload_id", upload.as_str());
        }
        if let Some(code) = &self.referrer_code {
            out.str("referrer_code", code.as_str());
        }
        if let Some(token) = &self.contestant_token {
            out.str("contestant_token", token.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::{Map, Value};

    use protocol::events::NotificationDetail;

    use super::*;

    impl Out for Map<String, Value> {
        fn str(&mut self, key: &str, value: &str) {
            self.insert(key.into(), value.into());
        }

        fn num(&mut self, key: &str, value: f64) {
            // The tests' numbers are integers; serde writes them as such.
            #[allow(clippy::cast_possible_truncation)]
            let integer = value as i64;
            self.insert(key.into(), integer.into());
        }

        fn flag(&mut self, key: &str, value: bool) {
            self.insert(key.into(), value.into());
        }

        fn null(&mut self, key: &str) {
            self.insert(key.into(), Value::Null);
        }

        fn obj(&mut self, key: &str, write: &dyn Fn(&mut dyn Out)) {
            let mut inner = Map::new();
            write(&mut inner);
            self.insert(key.into(), inner.into());
        }
    }

    /// The fixture, parsed as `T`, is written here exactly as serde writes it.
    fn check<T: Write + Serialize + DeserializeOwned>(fixture: &str) {
        let typed: T =
            serde_json::from_str(fixture).unwrap_or_else(|error| panic!("{error}: {fixture}"));
        let mut written = Map::new();
        typed.write(&mut written);
        let expected = serde_json::to_value(&typed).unwrap_or_default();
        assert_eq!(Value::Object(written), expected);
    }

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../protocol/fixtures/", $name))
        };
    }

    #[test]
    fn event_details_are_written_as_serde_writes_them() {
        check::<ReadyDetail>(fixture!("events/ready.json"));
        check::<LoginDetail>(fixture!("events/login.json"));
        check::<CaptureDetail>(fixture!("events/capture.json"));
        check::<EntryDetail>(fixture!("events/entry.json"));
        check::<EntryDetail>(fixture!("events/entry_answered.json"));
        check::<RewardDetail>(fixture!("events/reward.json"));
        check::<OpenDetail>(fixture!("events/open.json"));
        check::<CloseDetail>(fixture!("events/close.json"));
        check::<ErrorDetail>(fixture!("events/error.json"));
        check::<ErrorDetail>(
            r#"{"campaign": null, "code": "internal", "detail": "Oops.", "field": null}"#,
        );
        check::<RewardDetail>(
            r#"{"campaign": {"key": "g", "name": "Guide", "type": "Reward"},
                "user": {"email": "joe@example.com", "name": ""},
                "reward": {"type": "Download", "url": "https://cdn.example/g.pdf", "title": "Guide"}}"#,
        );
        for trigger in ["command", "exit_intent"] {
            check::<OpenDetail>(&format!(
                r#"{{"campaign": {{"key": "n", "name": "N", "type": "Capture"}}, "trigger": "{trigger}"}}"#
            ));
        }
        check::<CloseDetail>(
            r#"{"campaign": {"key": "n", "name": "N", "type": "Capture"}, "trigger": "command"}"#,
        );
    }

    /// The detail written here, with the notification as serde wrote it on the server, is
    /// serde's `NotificationDetail`.
    #[test]
    fn notification_details_are_written_as_serde_writes_them() {
        let check_notification = |fixture: &str| {
            let typed: NotificationDetail =
                serde_json::from_str(fixture).unwrap_or_else(|error| panic!("{error}: {fixture}"));
            let mut written = Map::new();
            NotificationText {
                campaign: &typed.campaign,
                text: &typed.text,
            }
            .write(&mut written);
            written.insert(
                "notification".into(),
                serde_json::to_value(&typed.notification).unwrap_or_default(),
            );
            assert_eq!(
                Value::Object(written),
                serde_json::to_value(&typed).unwrap_or_default()
            );
        };
        check_notification(fixture!("events/notification.json"));
        check_notification(
            r#"{"campaign": {"key": "g", "name": "Giveaway", "type": "Competition"},
                "notification": {"id": "en_3", "kind": "entry", "name": "Someone", "place": null,
                                 "product": null, "occurred_at": 5, "text": "Someone just entered Giveaway"},
                "text": "Quelqu'un a participé à Giveaway"}"#,
        );
    }

    #[test]
    fn entry_posts_are_written_as_serde_writes_them() {
        let check_post = |fixture: &str| {
            let typed: protocol::entry::EntryPost =
                serde_json::from_str(fixture).unwrap_or_else(|error| panic!("{error}: {fixture}"));
            let post = Post::from_protocol(&typed);
            assert_eq!(
                post.to_protocol(),
                typed,
                "the fixture is one the widget can make"
            );
            let mut written = Map::new();
            post.write(&mut written);
            assert_eq!(
                Value::Object(written),
                serde_json::to_value(&typed).unwrap_or_default()
            );
        };
        check_post(fixture!("entry_post.json"));
        check_post(r#"{"idempotency_key":"k","entry_method_id":1,"email":"joe@example.com"}"#);
        check_post(
            r#"{"idempotency_key":"k","entry_method_id":7,"email":"joe@example.com","value":"https://h/u.jpg","upload_id":"upl_1"}"#,
        );
    }
}
